"""The express tier's part of bench/gpu_pack.py: FLUX.2 [klein] 4B, references, no training.

Times, at 1024 px and the distilled 4 steps: VAE-encoding the reference crops, encoding one
prompt, seconds per image through the tier's own `render_express` at batch 1, 4 and 8 (each call
re-encodes its prompts and references, as the pipeline does), one VAE decode and peak GPU memory;
then the same renders with the transformer's repeated blocks compiled.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from bench.pack_timing import Row, timed
from bench.run_options import BenchOptions

TIER = "express"

# huggingface/diffusers scripts/convert_flux2_to_diffusers.py, get_flux2_transformer_config
# ("klein-4b"), the config the published checkpoint is converted with (read at commit 58eb52c);
# mflux's and iris.c's ports of the checkpoint agree: 5 double-stream + 20 single-stream blocks.
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
# that config.json (hidden 2560, MLP 9728, head_dim 128, tied embeddings). 4.022 B parameters
# built from it, the card's "4.0B". The pipeline reads hidden states 9, 18 and 27
# (`text_encoder_out_layers`, its default), so the last 9 layers are computed and unused.
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
BATCHES = (1, 4, 8)
PROMPT = (
    "Professional corporate headshot of the person in the reference photos, same face and "
    "identity, navy blazer, soft studio light, plain grey backdrop, 85mm lens, sharp focus"
)
COMPILE_DEADLINE_S = 200  # past this the compiled pass is skipped, to end under 8 minutes


def express_pipeline(opts: BenchOptions) -> Any:
    """Return the pipeline to time: the tiny one, a real model, or random real-size weights."""
    from engine.studio.loading import load_pipeline
    from engine.studio.tiny_flux2 import write_tiny_flux2_klein

    if opts.tiny:
        folder = write_tiny_flux2_klein(opts.scratch / "tiny-klein")
        return load_pipeline(str(folder), device="cpu", family="Flux2KleinPipeline")
    if opts.express_model:
        return load_pipeline(
            opts.express_model,
            device="cuda",
            setting="--express-model",
            family="Flux2KleinPipeline",
        )
    return _random_real_size()


def measure_express(pipe: Any, opts: BenchOptions) -> tuple[list[Row], list[Any]]:
    """Return the express rows (parts, renders, compiled renders) and the last images rendered."""
    refs = references(opts.refs, opts.ref_px)
    rows = [
        part_row(
            f"VAE-encode {opts.refs} refs at {opts.ref_px} px",
            opts,
            lambda: encode_refs(pipe, refs),
        ),
        part_row(
            "encode 1 prompt (Qwen3, 512 tokens)",
            opts,
            lambda: pipe.encode_prompt([PROMPT], device=opts.device),
        ),
        part_row(f"VAE decode 1 image at {opts.px} px", opts, lambda: decode_latent(pipe, opts)),
    ]
    renders, images = _render_rows(pipe, refs, opts, "eager")
    rows += renders
    if opts.compile and time.perf_counter() - opts.started < COMPILE_DEADLINE_S:
        pipe.transformer.compile_repeated_blocks(fullgraph=True)
        rows += _render_rows(pipe, refs, opts, "compiled")[0]
    elif opts.compile:
        rows.append(Row(TIER, "compiled renders", text="skipped: past the time budget"))
    return rows, images


def project_express(rows: list[Row], cpu: dict[str, float], opts: BenchOptions) -> list[Row]:
    """Return a 40-image pack's projection at each steady batch size (renders and CPU work)."""
    candidates = opts.candidates
    around = opts.pack_selfies * cpu["frame"] + (candidates + opts.pack_selfies) * cpu["select"]
    projected = []
    for row in rows:
        if not row.name.startswith("image, batch") or "first call" in row.name:
            continue
        batch = int(row.name.split("batch ")[1].split(",")[0])
        render_s = math.ceil(candidates / batch) * batch * row.median()
        text = f"{render_s + around:.1f} (renders {render_s:.1f})"
        projected.append(Row(TIER, f"pack of {opts.pack_images}: {row.name}", text=text))
    return projected


def references(count: int, side_px: int) -> list[Any]:
    """Return `count` real face crops (the astronaut, at shifting framings) of side_px."""
    from engine.studio.express.render import fit_reference
    from tests import photos

    photo = photos.astronaut()
    boxes = [(150 - 10 * i, 20 - 5 * i, 310 + 10 * i, 200 + 5 * i) for i in range(count)]
    return [fit_reference(photo.crop(box), side_px) for box in boxes]


def part_row(name: str, opts: BenchOptions, work: Callable[[], Any]) -> Row:
    times, peak = timed(opts.device, opts.runs + 2, work)
    return Row(TIER, name, times[1:], peak)  # the first call warms kernels and the allocator


def _render_rows(
    pipe: Any, refs: list[Any], opts: BenchOptions, mode: str
) -> tuple[list[Row], list[Any]]:
    """Time `render_express` per image at each batch size; the first call of each is warm-up."""
    from engine.studio.express.render import ExpressRender

    rows: list[Row] = []
    images: list[Any] = []
    for batch in BATCHES:
        settings = ExpressRender(opts.px, opts.px, batch=batch, reference_px=opts.ref_px)
        call = _render_call(pipe, refs, settings, images)
        times, peak = timed(opts.device, opts.runs + 1, call)
        name = f"image, batch {batch}, {opts.refs} refs, {mode}"
        rows.append(Row(TIER, f"{name} (first call)", [times[0] / batch], peak))
        rows.append(Row(TIER, name, [t / batch for t in times[1:]], peak))
    return rows, images


def _render_call(pipe: Any, refs: list[Any], settings: Any, keep: list[Any]) -> Callable[[], None]:
    """Return one express render of a full batch through the tier's own code; keep its images."""
    from engine.studio.express.render import render_express

    prompts, seeds = [PROMPT] * settings.batch, list(range(settings.batch))

    def call() -> None:
        keep[:] = render_express(
            pipe, refs, prompts, seeds, settings,
            on_progress=lambda *_: None, should_stop=lambda: False,
        )  # fmt: skip

    return call


def encode_refs(pipe: Any, refs: list[Any]) -> Any:
    """Encode references exactly as Flux2KleinPipeline's own step 4 does."""
    images = [
        pipe.image_processor.preprocess(r, height=r.height, width=r.width, resize_mode="crop")
        for r in refs
    ]
    return pipe.prepare_image_latents(
        images=images, batch_size=1, generator=None, device=pipe.vae.device, dtype=pipe.vae.dtype
    )


def decode_latent(pipe: Any, opts: BenchOptions) -> Any:
    import torch

    channels, factor = pipe.vae.config.latent_channels, pipe.vae_scale_factor
    side = opts.px // factor
    latents = torch.randn(1, channels, side, side, device=opts.device)
    return pipe.vae.decode(latents.to(pipe.vae.dtype))


def _random_real_size() -> Any:
    import torch

    from engine.studio.tiny_flux2 import build_flux2_klein, qwen_byte_tokenizer

    # A byte tokenizer: the prompt is padded to the pipeline's 512 tokens either way, so the
    # encoder does the same work as with Qwen's own 151,646-token vocabulary.
    pipe = build_flux2_klein(
        KLEIN_4B_TRANSFORMER, KLEIN_4B_VAE, QWEN3_4B, qwen_byte_tokenizer(),
        device="cuda", dtype=torch.bfloat16,
    )  # fmt: skip
    for part in ("transformer", "text_encoder", "vae"):
        count = sum(p.numel() for p in getattr(pipe, part).parameters()) / 1e9
        print(f"express {part} parameters: {count:.3f} B")
    pipe.set_progress_bar_config(disable=True)
    return pipe
