"""Render style packs with a person's LoRA loaded as a named adapter on the shared base pipeline.

REFERENCE.md's traps, handled here: the LoRA is never fused into the base weights; its scale is set
with `set_adapters(adapter_weights=...)`, never `cross_attention_kwargs={"scale": ...}` (that
leaks into the next job's text encoders); the adapter is deleted and the peft layers unloaded
after every job, so the next job can reuse the name and starts from the untouched base model.
"""

from __future__ import annotations

import io
import json
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image, PngImagePlugin

from engine.postprocess import AI_NOTICE, HiresSettings, finish, hires_pass
from engine.stages import GeneratedImage, OnProgress, ShouldStop, StageCancelledError
from engine.styles import Shot, Style

_SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++"}),
    "dpmpp_2m_karras": (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True},
    ),
    "ddim": ("DDIMScheduler", {}),
}


@dataclass(frozen=True)
class RenderSettings:
    """How a studio renders: square side, an optional cap on sampler steps, a hi-res pass."""

    base_px: int
    max_steps: int | None = None
    hires: HiresSettings | None = None


@contextmanager
def lora_adapter(pipe: Any, lora: bytes, name: str | None = None) -> Iterator[str]:
    """Load `lora` as a fresh named adapter; delete it and unload the peft layers on exit."""
    name = name or f"job-{uuid.uuid4().hex[:12]}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "lora.safetensors").write_bytes(lora)
            pipe.load_lora_weights(tmp, weight_name="lora.safetensors", adapter_name=name)
        yield name
    finally:
        remove_adapter(pipe, name)


def remove_adapter(pipe: Any, name: str) -> None:
    """Delete the adapter if it is loaded, then drop every peft layer from the pipeline."""
    loaded = {n for names in pipe.get_list_adapters().values() for n in names}
    if name in loaded:
        pipe.delete_adapters(name)
    pipe.unload_lora_weights()


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
) -> list[GeneratedImage]:
    """Render `images_per_style` images of each style with the LoRA; progress per image."""
    shots = [(s, s.shot(person, i, seed)) for s in styles for i in range(images_per_style)]
    images: list[GeneratedImage] = []
    with lora_adapter(pipe, lora) as adapter, _scheduler_restored(pipe) as base_scheduler:
        for style, shot in shots:
            if should_stop():
                raise StageCancelledError("generation cancelled")
            pipe.set_adapters([adapter], adapter_weights=[style.sampler.lora_scale])
            pipe.scheduler = make_scheduler(base_scheduler.config, style.sampler.scheduler)
            image = render_shot(pipe, style, shot, render, should_stop)
            images.append(GeneratedImage(shot.style_id, shot.seed, encode_png(image, shot)))
            on_progress(len(images), len(shots))
    return images


def render_shot(
    pipe: Any, style: Style, shot: Shot, render: RenderSettings, should_stop: ShouldStop
) -> Image.Image:
    """Render one shot with the pipeline as it is now (adapter weights and sampler set)."""
    width, height = shot.size(render.base_px)
    steps = style.sampler.steps
    if render.max_steps is not None:
        steps = min(steps, render.max_steps)
    call = {
        "prompt": shot.prompt,
        "negative_prompt": shot.negative_prompt,
        "width": width,
        "height": height,
        "num_inference_steps": steps,
        "guidance_scale": style.sampler.guidance_scale,
        "generator": torch.Generator(pipe.unet.device).manual_seed(shot.seed),
        "callback_on_step_end": _stop_check(should_stop),
    }
    image: Image.Image = pipe(**call).images[0]
    if render.hires is not None:
        image = hires_pass(pipe, image, call, render.hires)
    return finish(image)


def make_scheduler(config: Any, name: str) -> Any:
    """Return the named sampler built from the base model's scheduler config."""
    import diffusers

    class_name, extra = _SCHEDULERS[name]
    return getattr(diffusers, class_name).from_config(config, **extra)


def encode_png(image: Image.Image, shot: Shot) -> bytes:
    """Return a lossless PNG that says it is AI-generated and records how it was made."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "headshots")
    info.add_text("Comment", AI_NOTICE)
    info.add_text("ai_generated", "true")
    record = {"style": shot.style_id, "seed": shot.seed, "prompt": shot.prompt}
    info.add_text("parameters", json.dumps(record))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


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
