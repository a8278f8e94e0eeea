"""The studio tier's part of bench/gpu_pack.py: SDXL, a DreamBooth LoRA trained per person.

Times seconds per LoRA training step at 1024 px (the studio's own `train_lora` with the recipe
the HEADSHOTS_TRAIN_* defaults give: cached latents and text embeddings, UNet-only LoRA, fused
AdamW on CUDA, SDPA attention), the same with the inputs re-encoded every step, per photo at
batch 2, and compiled when asked (`--compile-train`); seconds per image at a style's sampler
settings (its own `render_shots`, the person's LoRA as a named adapter) and at the acceleration
recipe's few steps with the acceleration LoRA loaded as the resident adapter and the person's
stacked on it, exactly as a worker renders (`--acceleration FILE` for the real Hyper-SD or
Lightning file; otherwise a random rank-64 LoRA over the same projections, so the adapter
overhead is timed but not its pictures); and one VAE decode, each with peak GPU memory.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from bench.pack_timing import Row, peak_memory, sync, timed, timed_steps
from bench.run_options import BenchOptions

TIER = "studio"

# diffusers' published stabilityai/stable-diffusion-xl-base-1.0 unet/config.json, vae/config.json
# and text_encoder{,_2}/config.json (CLIP ViT-L/14 and OpenCLIP ViT-bigG/14): 2.567 B UNet
# parameters built from these, the published count.
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


def studio_pipeline(opts: BenchOptions) -> Any:
    """Return the pipeline to time: the tiny one, a real model, or random real-size weights."""
    from engine.studio.loading import load_pipeline
    from engine.studio.tiny import write_tiny_model

    if opts.tiny:
        folder = opts.scratch / "tiny-sdxl"
        write_tiny_model(folder, "sdxl")
        return load_pipeline(str(folder), device="cpu")
    if opts.studio_model:
        return load_pipeline(opts.studio_model, device="cuda", setting="--studio-model")
    return _random_real_size()


def measure_studio(pipe: Any, opts: BenchOptions) -> tuple[list[Row], list[Any], float]:
    """Return the studio rows, the last images rendered and the training run's overhead (s)."""
    from engine.studio.loading import default_resolution
    from engine.studio.styles import get_style

    px = default_resolution(pipe)
    config = _recipe(opts, px)
    steps, total_s, train_peak = _train_steps(pipe, config, opts)
    rows = [Row(TIER, "LoRA training step (settings' recipe: cached inputs, UNet-only)", steps,
                train_peak)]  # fmt: skip
    rows += _train_variants(pipe, config, opts)
    lora = _train(pipe, dataclasses.replace(config, min_steps=1, max_steps=1), lambda *_: None)
    style = get_style(opts.style)
    full, images = _render(pipe, lora, style, opts, acceleration=None)
    acceleration = acceleration_for(pipe, opts)
    few, _ = _render(pipe, lora, style, opts, acceleration=acceleration)
    recipe, b = acceleration.recipe, opts.batch
    rows += [
        Row(TIER, f"image, {style.id} ({style.sampler.steps} steps, batch {b})", *full),
        Row(TIER, f"image, {opts.acceleration_recipe} ({recipe.steps} steps {recipe.scheduler},"
                  f" CFG {recipe.guidance_scale:g}, 2 adapters, batch {b})", *few),
        Row(TIER, f"VAE decode 1 image at {px} px", *decode_timed(pipe, px, opts)),
    ]  # fmt: skip
    return rows, images, total_s - sum(steps)


def _recipe(opts: BenchOptions, px: int) -> Any:
    """Return the worker's own training recipe (the settings' defaults) at the timed length."""
    from core.settings import Settings
    from engine.studio.lora.backend import train_config

    settings = Settings(_env_file=None)  # type: ignore[call-arg]  # the defaults, not this host's
    config = train_config(settings, px, on_cuda=not opts.tiny)
    return dataclasses.replace(
        config, min_steps=opts.train_steps, max_steps=opts.train_steps,
        gradient_checkpointing=opts.checkpointing,
    )  # fmt: skip


def _train(pipe: Any, config: Any, progress: Any) -> bytes:
    from engine.studio.lora.training import train_lora

    result = train_lora(
        pipe, person_crops(), config, subject="person", on_progress=progress,
        should_stop=lambda: False,
    )  # fmt: skip
    return result.lora


def _train_steps(
    pipe: Any, config: Any, opts: BenchOptions
) -> tuple[list[float], float, float | None]:
    return timed_steps(opts.device, lambda progress: _train(pipe, config, progress))


def _train_variants(pipe: Any, config: Any, opts: BenchOptions) -> list[Row]:
    """Time the knobs the settings leave off: uncached inputs, batch 2, torch.compile."""
    uncached = _train_steps(pipe, dataclasses.replace(config, cache_inputs=False), opts)
    batch2, _, peak2 = _train_steps(pipe, dataclasses.replace(config, batch_size=2), opts)
    rows = [
        Row(TIER, "LoRA training step, inputs re-encoded every step", uncached[0], uncached[2]),
        Row(TIER, "LoRA training step, batch 2, per photo", [s / 2 for s in batch2], peak2),
    ]
    if opts.compile_train:
        compiled = dataclasses.replace(config, compile_unet=True)
        steps, total_s, peak = _train_steps(pipe, compiled, opts)
        rows.append(Row(TIER, "LoRA training step, torch.compile", steps, peak))
        rows.append(Row(TIER, "LoRA training run, torch.compile (whole, s)", [total_s]))
    return rows


def acceleration_for(pipe: Any, opts: BenchOptions) -> Any:
    """Load the acceleration LoRA as a worker does: the real file, or a random stand-in."""
    from engine.studio.lora.acceleration import RECIPES, load_acceleration
    from engine.studio.tiny_lora import write_random_lora

    source = opts.acceleration
    if source is None:
        weight = RECIPES[opts.acceleration_recipe].weight_name
        rank = 4 if opts.tiny else 64
        source = str(write_random_lora(pipe.unet, opts.scratch / "acceleration", weight, rank))
    return load_acceleration(pipe, source, opts.acceleration_recipe)


def project_studio(
    rows: list[Row], cpu: dict[str, float], train_overhead_s: float, opts: BenchOptions
) -> list[Row]:
    """Return a 40-image pack's projection at the style's steps and at the few-step schedule."""
    from engine.studio.lora.training import TrainConfig

    step = rows[0].median()
    image, few = [r.median() for r in rows if r.name.startswith("image, ")]  # style, few-step
    steps = TrainConfig().steps_for(opts.pack_selfies)  # the production recipe, not the timed run
    fixed = opts.pack_selfies * cpu["frame"] + steps * step + train_overhead_s
    fixed += (opts.candidates + opts.pack_selfies) * cpu["select"]
    name = f"pack of {opts.pack_images} ({steps} training steps, {opts.candidates} candidates)"
    return [
        Row(TIER, f"{name}, style steps", text=f"{fixed + opts.candidates * image:.1f}"),
        Row(TIER, f"{name}, few-step", text=f"{fixed + opts.candidates * few:.1f}"),
    ]


def person_crops() -> list[Any]:
    """Return two photos of one person (the astronaut, and mirrored) to train on."""
    from PIL import ImageOps

    from tests import photos

    return [photos.astronaut(), ImageOps.mirror(photos.astronaut())]


def _render(
    pipe: Any, lora: bytes, style: Any, opts: BenchOptions, *, acceleration: Any
) -> tuple[tuple[list[float], float | None], list[Any]]:
    """Time the studio's own render call per image, after one warm-up call; keep its images."""
    from engine.studio import generation as gen
    from engine.studio.adapters import lora_adapter
    from engine.studio.loading import default_resolution

    shots = [style.shot("ohwx person", 0, seed) for seed in range(opts.batch)]
    settings = gen.RenderSettings(default_resolution(pipe), batch=opts.batch)
    original, times, images = pipe.scheduler, [], []
    rendered = gen.accelerated(style, acceleration)  # the recipe's sampler, steps and guidance
    with lora_adapter(pipe, lora) as name, peak_memory(opts.device) as peak:
        gen.activate(pipe, name, style, acceleration)
        pipe.scheduler = gen.make_scheduler(original.config, rendered.sampler.scheduler)
        for run in range(opts.images + 1):
            start = time.perf_counter()
            images = gen.render_shots(pipe, rendered, shots, settings, lambda: False)
            sync(opts.device)
            if run:  # the first call warms kernels and the allocator up
                times.append((time.perf_counter() - start) / opts.batch)
    pipe.scheduler = original
    return (times, peak[0]), images


def decode_timed(pipe: Any, px: int, opts: BenchOptions) -> tuple[list[float], float | None]:
    import torch

    factor = pipe.vae_scale_factor
    latents = torch.randn(
        1, 4, px // factor, px // factor, device=opts.device, dtype=pipe.vae.dtype
    )
    times, peak = timed(
        opts.device, 6, lambda: pipe.vae.decode(latents / pipe.vae.config.scaling_factor)
    )
    return times[1:], peak


def _random_real_size() -> Any:
    import importlib

    import torch

    diffusers: Any = importlib.import_module("diffusers")  # untyped constructors
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from engine.studio.clip_vocab import clip_tokenizer  # the real vocabulary, 77 tokens

    with torch.device("cuda"):
        unet = diffusers.UNet2DConditionModel(**SDXL_UNET)
        vae = diffusers.AutoencoderKL(**SDXL_VAE)
        text = CLIPTextModel(CLIPTextConfig(**CLIP_L))
        text_2 = CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_BIGG))
    print(f"studio UNet parameters: {sum(p.numel() for p in unet.parameters()) / 1e9:.3f} B")
    pipe = diffusers.StableDiffusionXLPipeline(
        vae=vae, text_encoder=text, text_encoder_2=text_2,
        tokenizer=clip_tokenizer("<|endoftext|>"), tokenizer_2=clip_tokenizer("!"), unet=unet,
        scheduler=diffusers.EulerDiscreteScheduler(
            beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
        ),
    )  # fmt: skip
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(torch.bfloat16)
