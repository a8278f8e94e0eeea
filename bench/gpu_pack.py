"""Time the studio pack on a GPU with random weights of the real SDXL architecture (no download).

Run on a GPU host:  python bench/gpu_pack.py [--train-steps 20] [--images 4]
Run here (no GPU):  python bench/gpu_pack.py --tiny

Measures seconds per LoRA training step at 1024 px (the studio's own `train_lora`), seconds per
image at a style pack's sampler settings (its own `generate_pack`, LoRA loaded as an adapter), one
VAE decode, the CPU face work (framing per selfie, selection per candidate, on real photos), and
projects a whole pack (10 selfies, 40 kept images from 60 candidates), with peak GPU memory.
`--tiny` runs the tiny random model on the CPU instead: its figures say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)

SDXL_UNET: dict[str, Any] = {
    "sample_size": 128,
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 2,
    "block_out_channels": (320, 640, 1280),
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    "attention_head_dim": (5, 10, 20),
    "transformer_layers_per_block": (1, 2, 10),
    "cross_attention_dim": 2048,
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
}
SDXL_VAE: dict[str, Any] = {
    "block_out_channels": (128, 256, 512, 512),
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "latent_channels": 4,
    "layers_per_block": 2,
    "sample_size": 1024,
    "scaling_factor": 0.13025,
}
CLIP_L: dict[str, Any] = {
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "hidden_act": "quick_gelu",
    "projection_dim": 768,
}
CLIP_BIGG: dict[str, Any] = {
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_attention_heads": 20,
    "num_hidden_layers": 32,
    "hidden_act": "gelu",
    "projection_dim": 1280,
}
PACK_SELFIES, PACK_IMAGES, OVERGENERATE = 10, 40, 1.5


def main() -> int:
    """Build the pipeline, time each stage and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="tiny random model on the CPU")
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--images", type=int, default=4, help="timed calls (after a warm-up)")
    parser.add_argument("--batch", type=int, default=1, help="images per render call")
    parser.add_argument("--style", default="corporate-grey")
    parser.add_argument("--checkpointing", choices=("auto", "on", "off"), default="auto")
    args = parser.parse_args()
    import torch

    device = "cpu" if args.tiny else "cuda"
    if not args.tiny and not torch.cuda.is_available():
        print("no CUDA device: run on a GPU host, or pass --tiny for the CPU smoke figures")
        return 2
    if args.tiny:
        torch.set_num_threads(1)
    pipe = _tiny_pipeline() if args.tiny else _real_pipeline()
    rows, projection = _measure(pipe, args, device)
    _print(rows, projection, args, device)
    return 0


def _measure(
    pipe: Any, args: argparse.Namespace, device: str
) -> tuple[list[Row], dict[str, float]]:
    from engine.studio.loading import default_resolution
    from engine.studio.lora.training import TrainConfig, train_lora
    from engine.studio.styles import get_style
    from tests import photos

    px = default_resolution(pipe)
    config = TrainConfig(
        resolution=px,
        min_steps=args.train_steps,
        max_steps=args.train_steps,
        mixed_precision="no" if device == "cpu" else "bf16",
        gradient_checkpointing=args.checkpointing,
    )
    crops = [photos.astronaut(), photos.grace_hopper()]
    step_times, train_total, train_mem = _timed_steps(
        device,
        lambda cb: train_lora(
            pipe, crops, config, subject="person", on_progress=cb, should_stop=lambda: False
        ),
    )
    lora = train_lora(
        pipe,
        crops,
        dataclasses.replace(config, max_steps=1, min_steps=1),
        subject="person",
        on_progress=lambda d, t: None,
        should_stop=lambda: False,
    ).lora
    style = get_style(args.style)

    image_times, image_mem = _render_times(pipe, lora, style, px=px, args=args, device=device)
    decode_times, decode_mem = _vae_decode(pipe, px, device)
    frame_s, select_s = _face_work()
    overhead = train_total - sum(step_times)
    rows = [
        Row("LoRA training step", step_times, train_mem),
        Row(
            f"image, {style.id} ({style.sampler.steps} steps, cfg {style.sampler.guidance_scale}, "
            f"batch {args.batch})",
            image_times,
            image_mem,
        ),
        Row("VAE decode (1 image)", decode_times, decode_mem),
        Row("frame one selfie (CPU)", frame_s, 0.0),
        Row("select one candidate (CPU)", select_s, 0.0),
    ]
    projection = _project(rows, overhead)
    return rows, projection


@dataclasses.dataclass
class Row:
    """One measured quantity: durations in seconds and peak GPU memory in GiB."""

    name: str
    times_s: list[float]
    peak_gib: float

    def median(self) -> float:
        """Return the median duration."""
        return statistics.median(self.times_s)

    def p95(self) -> float:
        """Return the 95th percentile duration (the largest for fewer than 20 samples)."""
        ordered = sorted(self.times_s)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _timed_steps(
    device: str, work: Callable[[Callable[[int, int], None]], Any]
) -> tuple[list[float], float, float]:
    """Run `work` with a progress callback; return per-callback durations, total, peak GiB."""
    marks: list[float] = []

    def tick(done: int, total: int) -> None:
        _sync(device)
        marks.append(time.perf_counter())

    with _peak_memory(device) as peak:
        start = time.perf_counter()
        work(tick)
        _sync(device)
        total = time.perf_counter() - start
    first = marks[0] - start
    # The first step carries set-up (latents, adapter); it is left out of the per-step figures.
    durations = [b - a for a, b in itertools.pairwise(marks)] or [first]
    return durations, total, peak[0]


def _render_times(
    pipe: Any, lora: bytes, style: Any, *, px: int, args: argparse.Namespace, device: str
) -> tuple[list[float], float]:
    """Time the studio's own render call per image, LoRA loaded, after one warm-up call."""
    from engine.studio.generation import RenderSettings, lora_adapter, make_scheduler, render_shots

    shots = [style.shot("ohwx person", 0, seed) for seed in range(args.batch)]
    settings = RenderSettings(px, batch=args.batch)
    original, times = pipe.scheduler, []
    with lora_adapter(pipe, lora) as name, _peak_memory(device) as peak:
        pipe.set_adapters([name], adapter_weights=[style.sampler.lora_scale])
        pipe.scheduler = make_scheduler(original.config, style.sampler.scheduler)
        for run in range(args.images + 1):
            start = time.perf_counter()
            render_shots(pipe, style, shots, settings, lambda: False)
            _sync(device)
            if run:  # the first call warms kernels and the allocator up
                times.append((time.perf_counter() - start) / args.batch)
    pipe.scheduler = original
    return times, peak[0]


def _vae_decode(pipe: Any, px: int, device: str) -> tuple[list[float], float]:
    import torch

    factor = pipe.vae_scale_factor
    latents = torch.randn(1, 4, px // factor, px // factor, device=device, dtype=pipe.vae.dtype)
    times = []
    with _peak_memory(device) as peak, torch.no_grad():
        for run in range(6):
            start = time.perf_counter()
            pipe.vae.decode(latents / pipe.vae.config.scaling_factor)
            _sync(device)
            if run:
                times.append(time.perf_counter() - start)
    return times, peak[0]


def _face_work() -> tuple[list[float], list[float]]:
    """Time framing one selfie and judging one candidate on real photos (CPU, model-free)."""
    from engine.faces import FaceAnalyzer
    from engine.studio.preprocess import training_crops
    from engine.studio.protocol import GeneratedImage
    from engine.studio.selection import select_best
    from tests import photos

    faces = FaceAnalyzer()
    selfie = photos.to_bytes(photos.grace_hopper().resize((1024, 1200)))
    candidate = GeneratedImage("s", 0, photos.to_bytes(photos.grace_hopper(), "PNG"))
    frame, select = [], []
    for _ in range(6):
        start = time.perf_counter()
        training_crops(faces, [selfie], size=1024)
        frame.append(time.perf_counter() - start)
        start = time.perf_counter()
        select_best(faces, [candidate, candidate], selfies=[selfie], keep_per_style=1)
        select.append((time.perf_counter() - start) / 3)  # one reference plus two candidates
    faces.close()
    return frame[1:], select[1:]


def _project(rows: list[Row], train_overhead_s: float) -> dict[str, float]:
    from engine.studio.lora.training import TrainConfig

    step, image, _, frame, select = (row.median() for row in rows)
    steps = TrainConfig().steps_for(PACK_SELFIES)  # the production recipe, not the timed run
    candidates = round(PACK_IMAGES * OVERGENERATE)
    parts = {
        "preprocess": PACK_SELFIES * frame,
        "train": steps * step + train_overhead_s,
        "generate": candidates * image,
        "select": (candidates + PACK_SELFIES) * select,
    }
    return {**parts, "total": sum(parts.values()), "steps": steps, "candidates": candidates}


def _print(
    rows: list[Row], projection: dict[str, float], args: argparse.Namespace, device: str
) -> None:
    import torch

    if args.tiny:
        where = "tiny random SDXL on the CPU (1 thread): NOT GPU figures"
    else:
        where = f"{torch.cuda.get_device_name()} with random weights of the real SDXL architecture"
    print(f"# {where}")
    print("| measure | median s | p95 s | n | peak GPU GiB |\n| --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row.name} | {row.median():.3f} | {row.p95():.3f} | {len(row.times_s)} "
            f"| {row.peak_gib:.1f} |"
        )
    p = projection
    print(
        f"\nProjected pack: {PACK_SELFIES} selfies, {int(p['steps'])} training steps, "
        f"{int(p['candidates'])} candidates for {PACK_IMAGES} images"
    )
    print(" ".join(f"{k} {p[k]:.1f} s," for k in ("preprocess", "train", "generate", "select")))
    goal = "tiny CPU model: not comparable" if args.tiny else "goal: under 120 s on one H100"
    print(f"total {p['total']:.1f} s ({p['total'] / 60:.1f} min); {goal}")


def _real_pipeline() -> Any:
    import importlib

    import torch

    diffusers: Any = importlib.import_module("diffusers")  # untyped constructors
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from engine.studio.clip_vocab import clip_tokenizer  # tokenizes as production does

    with torch.device("cuda"):
        unet = diffusers.UNet2DConditionModel(**SDXL_UNET)
        vae = diffusers.AutoencoderKL(**SDXL_VAE)
        text = CLIPTextModel(CLIPTextConfig(**CLIP_L))
        text_2 = CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_BIGG))
    print(f"UNet parameters: {sum(p.numel() for p in unet.parameters()) / 1e9:.3f} B")
    pipe = diffusers.StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=text,
        text_encoder_2=text_2,
        tokenizer=clip_tokenizer("<|endoftext|>"),
        tokenizer_2=clip_tokenizer("!"),
        unet=unet,
        scheduler=diffusers.EulerDiscreteScheduler(
            beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
        ),
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(torch.bfloat16)


def _tiny_pipeline() -> Any:
    from engine.studio.loading import load_pipeline
    from engine.studio.tiny import write_tiny_model

    folder = Path(tempfile.mkdtemp(prefix="tiny-sdxl-"))
    write_tiny_model(folder, "sdxl")
    return load_pipeline(str(folder), device="cpu")


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
