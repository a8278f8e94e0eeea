"""Time the express tier on a GPU with random weights of the real FLUX.2 [klein] 4B (no download).

Run on a GPU host:  python bench/gpu_express.py [--refs 2] [--ref-px 512] [--no-compile]
Run here (no GPU):  python bench/gpu_express.py --tiny

Builds Flux2KleinPipeline from the published component configs (below, each with its source) in
bf16 on the GPU and times, at 1024 px and the distilled 4 steps: VAE-encoding the reference
crops, encoding one prompt, seconds per image through the express tier's own `render_express` at
batch 1, 4 and 8 (each call re-encodes its prompts and references, as the pipeline does), one VAE
decode, and peak GPU memory; then the same renders with the transformer's repeated blocks
compiled. Projects a 40-image pack rendered as 60 candidates. Prints one table. `--tiny` runs the
same code on the tiny random model on the CPU: its figures say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)

# huggingface/diffusers scripts/convert_flux2_to_diffusers.py, get_flux2_transformer_config
# ("klein-4b"), the config the published checkpoint is converted with (read at commit 58eb52c).
# 3.876 B parameters built from it. joint_attention_dim 7680 = 3 stacked Qwen3-4B layers x 2560.
KLEIN_4B_TRANSFORMER: dict[str, Any] = {
    "patch_size": 1,
    "in_channels": 128,
    "num_layers": 5,
    "num_single_layers": 20,
    "attention_head_dim": 128,
    "num_attention_heads": 24,
    "joint_attention_dim": 7680,
    "timestep_guidance_channels": 256,
    "mlp_ratio": 3.0,
    "axes_dims_rope": (32, 32, 32, 32),
    "rope_theta": 2000,
    "eps": 1e-6,
    "guidance_embeds": False,
}
# The same script builds the real VAE as `AutoencoderKLFlux2()` and loads the checkpoint into it
# with strict=True, so the class defaults are the published architecture (32 latent channels,
# blocks 128-256-512-512, 2x2 patch): 84 M parameters.
KLEIN_4B_VAE: dict[str, Any] = {}
# Qwen3-4B, the text encoder of the 4B klein (Black Forest Labs' card; mflux and iris.c, which
# load the checkpoint, say so too). Numbers from Qwen's published Qwen3-4B config.json as quoted
# in the Qwen3-4B-Base model card (36 layers, GQA 32 query / 8 KV heads) and third-party ports of
# that config.json (hidden 2560, MLP 9728, head_dim 128, tied embeddings); the Hub file itself
# could not be read here. 4.022 B parameters built from it, the card's "4.0B". The pipeline reads
# its hidden states 9, 18 and 27 (`text_encoder_out_layers`), so the last 9 layers are computed
# and unused.
QWEN3_4B: dict[str, Any] = {
    "vocab_size": 151936,
    "hidden_size": 2560,
    "intermediate_size": 9728,
    "num_hidden_layers": 36,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "max_position_embeddings": 40960,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
}
PACK_IMAGES, OVERGENERATE = 40, 1.5
BATCHES = (1, 4, 8)
PROMPT = (
    "Professional corporate headshot of the person in the reference photos, same face and "
    "identity, navy blazer, soft studio light, plain grey backdrop, 85mm lens, sharp focus"
)
COMPILE_DEADLINE_S = 240  # past this the compiled pass is skipped, to end under 8 minutes


@dataclasses.dataclass
class Row:
    """One measured quantity: durations in seconds and peak GPU memory in GiB."""

    name: str
    times_s: list[float]
    peak_gib: float

    def median(self) -> float:
        """Return the median duration."""
        return statistics.median(self.times_s)


def main() -> int:
    """Build the pipeline, time each stage and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="tiny random model on the CPU")
    parser.add_argument("--refs", type=int, default=2, help="reference crops per image")
    parser.add_argument("--ref-px", type=int, default=512, help="side of each reference crop")
    parser.add_argument("--runs", type=int, default=2, help="timed calls per batch size")
    parser.add_argument("--no-compile", action="store_true", help="skip the compiled pass")
    args = parser.parse_args()
    import torch

    if not args.tiny and not torch.cuda.is_available():
        print("no CUDA device: run on a GPU host, or pass --tiny for the CPU smoke figures")
        return 2
    if args.tiny:
        torch.set_num_threads(1)
        args.ref_px = 64
    device = "cpu" if args.tiny else "cuda"
    started = time.perf_counter()
    pipe = _tiny_pipeline() if args.tiny else _real_pipeline()
    build_s = time.perf_counter() - started
    rows, renders = _measure(pipe, args, device)
    if not args.no_compile and time.perf_counter() - started < COMPILE_DEADLINE_S:
        pipe.transformer.compile_repeated_blocks(fullgraph=True)
        renders += _render_rows(pipe, args, device, "compiled")
    _print(rows + renders, renders, args, device, build_s)
    return 0


def _measure(pipe: Any, args: argparse.Namespace, device: str) -> tuple[list[Row], list[Row]]:
    """Time the parts (references, prompt, decode) and the eager renders."""
    refs = _references(args.refs, args.ref_px)
    parts = [
        Row(
            f"VAE-encode {args.refs} refs at {args.ref_px} px",
            *_timed(device, args.runs + 2, lambda: _encode_references(pipe, refs, device)),
        ),
        Row(
            "encode 1 prompt (Qwen3, 512 tokens)",
            *_timed(device, args.runs + 2, lambda: pipe.encode_prompt([PROMPT], device=device)),
        ),
        Row(
            f"VAE decode 1 image at {_px(args)} px",
            *_timed(device, args.runs + 2, lambda: _decode(pipe, _px(args), device)),
        ),
    ]
    return parts, _render_rows(pipe, args, device, "eager")


def _render_rows(pipe: Any, args: argparse.Namespace, device: str, mode: str) -> list[Row]:
    """Time `render_express` per image at each batch size; the first call of each is warm-up."""
    from engine.studio.express.render import ExpressRender

    refs = _references(args.refs, args.ref_px)
    rows = []
    for batch in BATCHES:
        settings = ExpressRender(_px(args), _px(args), batch=batch, reference_px=args.ref_px)
        times, peak = _timed(device, args.runs + 1, _render_call(pipe, refs, settings))
        name = f"image, batch {batch}, {args.refs} refs, {mode}"
        rows.append(Row(f"{name} (first call)", [times[0] / batch], peak))
        rows.append(Row(name, [t / batch for t in times[1:]], peak))
    return rows


def _render_call(pipe: Any, refs: list[Any], settings: Any) -> Callable[[], Any]:
    """Return one express render of a full batch, through the tier's own code."""
    from engine.studio.express.render import render_express

    prompts, seeds = [PROMPT] * settings.batch, list(range(settings.batch))
    return lambda: render_express(
        pipe, refs, prompts, seeds, settings, on_progress=lambda *_: None, should_stop=lambda: False
    )


def _timed(device: str, calls: int, work: Callable[[], Any]) -> tuple[list[float], float]:
    """Run `work` `calls` times; return every duration and the peak GPU GiB over them."""
    import torch

    times = []
    with _peak_memory(device) as peak, torch.no_grad():
        for _ in range(calls):
            start = time.perf_counter()
            work()
            _sync(device)
            times.append(time.perf_counter() - start)
    return times, peak[0]


def _encode_references(pipe: Any, refs: list[Any], device: str) -> Any:
    """Encode references exactly as Flux2KleinPipeline's own step 4 does."""
    images = [
        pipe.image_processor.preprocess(r, height=r.height, width=r.width, resize_mode="crop")
        for r in refs
    ]
    return pipe.prepare_image_latents(
        images=images, batch_size=1, generator=None, device=device, dtype=pipe.vae.dtype
    )


def _decode(pipe: Any, px: int, device: str) -> Any:
    import torch

    channels = pipe.vae.config.latent_channels
    factor = pipe.vae_scale_factor
    latents = torch.randn(1, channels, px // factor, px // factor, device=device)
    return pipe.vae.decode(latents.to(pipe.vae.dtype))


def _references(count: int, side_px: int) -> list[Any]:
    """Return `count` real face crops (the astronaut, at shifting framings) of side_px."""
    from engine.studio.express.render import fit_reference
    from tests import photos

    photo = photos.astronaut()
    boxes = [(150 - 10 * i, 20 - 5 * i, 310 + 10 * i, 200 + 5 * i) for i in range(count)]
    return [fit_reference(photo.crop(box), side_px) for box in boxes]


def _px(args: argparse.Namespace) -> int:
    return 64 if args.tiny else 1024


def _print(
    rows: list[Row], renders: list[Row], args: argparse.Namespace, device: str, build_s: float
) -> None:
    import torch

    if args.tiny:
        where = "tiny random FLUX.2 klein on the CPU (1 thread): NOT GPU figures"
    else:
        name = torch.cuda.get_device_name()
        where = f"{name}, random weights of the real FLUX.2 [klein] 4B + Qwen3-4B, bf16"
    ref_tokens = (args.ref_px // 16) ** 2
    print(f"# {where}; built in {build_s:.0f} s; {ref_tokens} tokens per reference")
    print("| measure | median s | n | peak GPU GiB |\n| --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row.name} | {row.median():.3f} | {len(row.times_s)} | {row.peak_gib:.1f} |")
    candidates = round(PACK_IMAGES * OVERGENERATE)
    steady = [r for r in renders if not r.name.endswith("(first call)")]
    print(f"\nProjected pack: {PACK_IMAGES} images from {candidates} candidates, renders only")
    for row in steady:
        batch = int(row.name.split("batch ")[1].split(",")[0])
        total = math.ceil(candidates / batch) * batch * row.median()
        print(f"- {row.name}: {total:.1f} s")
    goal = "tiny CPU model: not comparable" if args.tiny else "goal: <= 45 s of GPU time"
    print(f"({goal}; selection on the CPU and the first load are not included)")


def _real_pipeline() -> Any:
    import torch

    from engine.studio.tiny_flux2 import build_flux2_klein, qwen_byte_tokenizer

    # A byte tokenizer: the prompt is padded to the pipeline's 512 tokens either way, so the
    # encoder does the same work as with Qwen's own 151,646-token vocabulary.
    pipe = build_flux2_klein(
        KLEIN_4B_TRANSFORMER,
        KLEIN_4B_VAE,
        QWEN3_4B,
        qwen_byte_tokenizer(),
        device="cuda",
        dtype=torch.bfloat16,
    )
    for part in ("transformer", "text_encoder", "vae"):
        count = sum(p.numel() for p in getattr(pipe, part).parameters()) / 1e9
        print(f"{part} parameters: {count:.3f} B")
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _tiny_pipeline() -> Any:
    import importlib
    import tempfile

    import torch

    from engine.studio.tiny_flux2 import write_tiny_flux2_klein

    diffusers: Any = importlib.import_module("diffusers")  # untyped loader
    folder = write_tiny_flux2_klein(Path(tempfile.mkdtemp(prefix="tiny-klein-")))
    pipe = diffusers.DiffusionPipeline.from_pretrained(
        str(folder), dtype=torch.float32, local_files_only=True
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


@contextmanager
def _peak_memory(device: str) -> Iterator[list[float]]:
    peak = [0.0]
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()
    yield peak
    if device == "cuda":
        peak[0] = torch.cuda.max_memory_allocated() / 2**30


if __name__ == "__main__":
    sys.exit(main())
