"""Render style packs with a person's LoRA loaded as a named adapter on the shared base pipeline.

REFERENCE.md's traps, handled here: the LoRA is never fused into the base weights; its scale is set
with `set_adapters(adapter_weights=...)`, never `cross_attention_kwargs={"scale": ...}` (that
leaks into the next job's text encoders); the adapter is deleted after every job
(engine.studio.adapters), so the next job can reuse the name and starts from the untouched base
model. With a worker's acceleration LoRA, an accelerated style renders both adapters stacked at
the acceleration recipe's steps, sampler and guidance.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import torch
from PIL import Image

from core import provenance
from engine.studio.adapters import lora_adapter
from engine.studio.lora.acceleration import Acceleration
from engine.studio.postprocess import HiresSettings, finish, hires_pass
from engine.studio.protocol import GeneratedImage, OnProgress, ShouldStop, StageCancelledError
from engine.studio.styles import Sampler, Shot, Style

__all__ = ["RenderSettings", "generate_pack", "lora_adapter", "make_scheduler", "render_shots"]

_SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++"}),
    "dpmpp_2m_karras": (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True},
    ),
    "ddim": ("DDIMScheduler", {}),
    # Few-step LoRAs are distilled on the last timesteps: "leading" spacing would skip t=999.
    "ddim_trailing": ("DDIMScheduler", {"timestep_spacing": "trailing"}),
    "euler_trailing": ("EulerDiscreteScheduler", {"timestep_spacing": "trailing"}),
}


@dataclass(frozen=True)
class RenderSettings:
    """How a studio renders: square side, a cap on sampler steps, a hi-res pass, batch size."""

    base_px: int
    max_steps: int | None = None
    hires: HiresSettings | None = None
    batch: int = 1  # images per pipeline call; more can use a large GPU better
    acceleration: Acceleration | None = None  # the worker's resident few-step LoRA


def accelerated(style: Style, acceleration: Acceleration | None) -> Style:
    """Return the style as it renders on this worker: the few-step recipe's sampler if on."""
    if acceleration is None or not style.sampler.accelerate:
        return style
    recipe = acceleration.recipe
    scale = style.sampler.lora_scale  # the person's adapter keeps the style's own weight
    sampler = Sampler(recipe.scheduler, recipe.steps, recipe.guidance_scale, scale)
    return replace(style, sampler=sampler)


def activate(pipe: Any, job_adapter: str, style: Style, acceleration: Acceleration | None) -> None:
    """Make the job's adapter active at the style's scale, stacked on the acceleration one."""
    names, weights = [job_adapter], [style.sampler.lora_scale]
    if acceleration is not None and style.sampler.accelerate:
        names.insert(0, acceleration.adapter)
        weights.insert(0, acceleration.recipe.adapter_weight)
    pipe.set_adapters(names, adapter_weights=weights)


def generate_pack(
    pipe: Any,
    lora: bytes,
    styles: Sequence[Style],
    *,
    person: str,
    images_per_style: int,
    seed: int,
    render: RenderSettings,
    on_progress: OnProgress,
    should_stop: ShouldStop,
    near_seed: int | None = None,
    on_images: Callable[[list[GeneratedImage]], None] | None = None,
) -> list[GeneratedImage]:
    """Render `images_per_style` images of each style with the LoRA; progress per image.

    With `near_seed`, the images are variations of the delivered image with that seed.
    `on_images` gets each rendered batch (a BackgroundJudge measures it meanwhile).
    """
    total = len(styles) * images_per_style
    done: dict[tuple[int, int], GeneratedImage] = {}
    with lora_adapter(pipe, lora) as adapter, _scheduler_restored(pipe) as base_scheduler:
        for position, chosen in enumerate(styles):
            activate(pipe, adapter, chosen, render.acceleration)
            style = accelerated(chosen, render.acceleration)
            pipe.scheduler = make_scheduler(base_scheduler.config, style.sampler.scheduler)
            shots = style.shots(person, images_per_style, seed, near_seed, express=False)
            for batch in _batches(shots, render.batch):
                if should_stop():
                    raise StageCancelledError("generation cancelled")
                rendered = render_shots(
                    pipe, style, [shot for _, shot in batch], render, should_stop
                )
                made = []
                for (index, shot), image in zip(batch, rendered, strict=True):
                    made.append(GeneratedImage(shot.style_id, shot.seed, encode_png(image, shot)))
                    done[position, index] = made[-1]
                    on_progress(len(done), total)
                if on_images is not None:
                    on_images(made)
    return [done[key] for key in sorted(done)]


def _batches(shots: Sequence[Shot], size: int) -> list[list[tuple[int, Shot]]]:
    """Group the style's shots by aspect ratio (one size per call), `size` at most per call."""
    groups: dict[str, list[tuple[int, Shot]]] = {}
    for index, shot in enumerate(shots):
        groups.setdefault(shot.aspect, []).append((index, shot))
    return [g[i : i + size] for g in groups.values() for i in range(0, len(g), size)]


def render_shots(
    pipe: Any,
    style: Style,
    shots: Sequence[Shot],
    render: RenderSettings,
    should_stop: ShouldStop,
) -> list[Image.Image]:
    """Render shots of one aspect ratio in one call, each from its own seeded generator."""
    width, height = shots[0].size(render.base_px)
    steps = style.sampler.steps
    if render.max_steps is not None:
        steps = min(steps, render.max_steps)
    device = pipe.unet.device
    call = {
        "prompt": [shot.prompt for shot in shots],
        "negative_prompt": [shot.negative_prompt for shot in shots],
        "width": width,
        "height": height,
        "num_inference_steps": steps,
        "guidance_scale": style.sampler.guidance_scale,
        "generator": [torch.Generator(device).manual_seed(shot.seed) for shot in shots],
        "callback_on_step_end": _stop_check(should_stop),
    }
    images: list[Image.Image] = pipe(**call).images
    if render.hires is not None:
        images = hires_pass(pipe, images, call, render.hires)
    return [finish(image, monochrome=style.finish.monochrome) for image in images]


def make_scheduler(config: Any, name: str) -> Any:
    """Return the named sampler built from the base model's scheduler config."""
    import diffusers

    class_name, extra = _SCHEDULERS[name]
    return getattr(diffusers, class_name).from_config(config, **extra)


def encode_png(image: Image.Image, shot: Shot) -> bytes:
    """Return a lossless PNG that says it is AI-generated and records how it was made."""
    record = {"style": shot.style_id, "seed": shot.seed, "prompt": shot.prompt}
    return provenance.png(image, {"parameters": json.dumps(record)})


@contextmanager
def _scheduler_restored(pipe: Any) -> Iterator[Any]:
    """Yield the pipeline's own scheduler, put back on exit: samplers are built from its config."""
    original = pipe.scheduler
    try:
        yield original
    finally:
        pipe.scheduler = original


def _stop_check(should_stop: ShouldStop) -> Any:
    def check(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if should_stop():
            raise StageCancelledError("generation cancelled")
        return kwargs

    return check
