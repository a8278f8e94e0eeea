"""The studio rows of bench/gpu_timing.py: SDXL, a DreamBooth LoRA trained per person.

LoRA training steps with the worker's recipe (gradient checkpointing off and on, batch 2,
inputs re-encoded every step), renders at a style's own steps and at the acceleration recipe's
few steps (a random rank-64 stand-in for the few-step LoRA under the person's) at batch 1, 4
and 8, one VAE decode; then the few-step renders again with the UNet compiled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from bench.pack_studio import acceleration_for, decode_timed
from bench.pack_timing import Row, timed_steps
from bench.timing_run import TimingRun, synthetic_photos

TIER = "studio"
BATCHES = (1, 4, 8)
STYLE = "corporate-grey"
TRAIN_NEED_S = 30  # one variant's steps, the caching of its inputs and the export
RENDER_NEED_S = 30  # a style-steps image is ~30 UNet calls with CFG, three calls timed
COMPILE_NEED_S = 120
STEP_ROW = "LoRA training step (worker recipe: cached inputs, UNet-only, rank 16)"


@dataclasses.dataclass
class Trained:
    """What the renders need from training: the person's LoRA and the few-step adapter."""

    lora: bytes
    acceleration: Any


def recipe(px: int, steps: int, on_cuda: bool, checkpointing: str = "off") -> Any:
    """Return the worker's training recipe (HEADSHOTS_TRAIN_* defaults) at the timed length."""
    from engine.studio.lora.config import TrainConfig

    return TrainConfig(
        resolution=px, mixed_precision="bf16" if on_cuda else "no", min_steps=steps,
        max_steps=steps, gradient_checkpointing=checkpointing,  # type: ignore[arg-type]
    )  # fmt: skip


def training_rows(run: TimingRun, pipe: Any) -> Trained:
    """Log the training variants; return a one-step LoRA and the acceleration adapter."""
    from engine.studio.loading import default_resolution

    opts, px = run.opts, default_resolution(pipe)
    config = recipe(px, opts.train_steps, on_cuda=not opts.tiny)
    if not opts.tiny:
        run.log.add(Row(TIER, "auto gradient checkpointing, both tiers resident",
                        text=_auto_checkpointing(pipe)))  # fmt: skip
    variants: list[tuple[str, Any, int]] = [
        (f"{STEP_ROW}, checkpointing off", config, 1),
        (f"{STEP_ROW}, checkpointing on",
         dataclasses.replace(config, gradient_checkpointing="on"), 1),
        (f"{STEP_ROW}, batch 2, per photo", dataclasses.replace(config, batch_size=2), 2),
        ("LoRA training step, inputs re-encoded every step",
         dataclasses.replace(config, cache_inputs=False), 1),
    ]  # fmt: skip
    for name, variant, per_call in variants:
        if run.fits(TRAIN_NEED_S, name):
            steps, total_s, peak = timed_steps(opts.device, _trainer(pipe, variant))
            run.log.add(Row(TIER, name, [s / per_call for s in steps], peak))
            if per_call == 1 and variant is config:
                overhead = total_s - sum(steps)
                run.log.add(Row(TIER, "LoRA training run overhead (inputs, export)", [overhead]))
    one_step = dataclasses.replace(config, min_steps=1, max_steps=1)
    return Trained(_train(pipe, one_step, lambda *_: None), acceleration_for(pipe, opts))


def render_rows(run: TimingRun, pipe: Any, trained: Trained) -> None:
    """Log a style-steps render, few-step renders at each batch size and one VAE decode."""
    from engine.studio.loading import default_resolution

    if run.fits(RENDER_NEED_S, "studio style-steps render"):
        _renders(run, pipe, trained, few_step=False, batch=1, mode="eager")
    for batch in BATCHES:
        if run.fits(RENDER_NEED_S, f"studio few-step batch {batch}"):
            _renders(run, pipe, trained, few_step=True, batch=batch, mode="eager")
    px = default_resolution(pipe)
    run.log.add(Row(TIER, f"VAE decode 1 image at {px} px", *decode_timed(pipe, px, run.opts)))


def compiled_rows(run: TimingRun, pipe: Any, trained: Trained) -> None:
    """Compile the UNet with both adapters loaded and time few-step renders at batch 4."""
    if not run.fits(COMPILE_NEED_S, "compiled studio renders"):
        return
    compile_unet = lambda: pipe.unet.compile(backend=run.compile_backend)  # noqa: E731
    _renders(run, pipe, trained, few_step=True, batch=4, mode="compiled", prepare=compile_unet)


def _auto_checkpointing(pipe: Any) -> str:
    """Say what the worker's auto mode picks here, from the memory it counts."""
    from engine.studio.lora.trainable import memory_parts, should_checkpoint

    parts = memory_parts(pipe)
    usable = " + ".join(f"{part / 2**30:.1f}" for part in parts)
    choice = "on" if should_checkpoint(*parts) else "off"
    return f"{choice} (free + cached + own = {usable} GiB usable)"


def _style() -> Any:
    from engine.studio.styles import get_style

    return get_style(STYLE)


def _renders(
    run: TimingRun,
    pipe: Any,
    trained: Trained,
    *,
    few_step: bool,
    batch: int,
    mode: str,
    prepare: Callable[[], Any] | None = None,
) -> None:
    """Time the studio's own render call with the person's adapter on, as a worker renders."""
    from engine.studio import generation as gen
    from engine.studio.adapters import lora_adapter
    from engine.studio.loading import default_resolution

    style, acceleration = _style(), trained.acceleration if few_step else None
    shots = [style.shot("ohwx person", 0, seed) for seed in range(batch)]
    settings = gen.RenderSettings(default_resolution(pipe), batch=batch)
    rendered = gen.accelerated(style, acceleration)
    width, height = shots[0].size(settings.base_px)
    kind = f"{rendered.sampler.steps} steps" + (", 2 adapters" if acceleration else "")
    name = f"image {width}x{height}, {kind}, batch {batch}, {mode}"
    original = pipe.scheduler
    with lora_adapter(pipe, trained.lora) as adapter:
        gen.activate(pipe, adapter, style, acceleration)
        pipe.scheduler = gen.make_scheduler(original.config, rendered.sampler.scheduler)
        if prepare is not None:
            prepare()
        try:
            call = lambda: gen.render_shots(pipe, rendered, shots, settings, lambda: False)  # noqa: E731
            run.renders(TIER, name, batch, call)
        finally:
            pipe.scheduler = original


def _trainer(pipe: Any, config: Any) -> Callable[[Callable[[int, int], None]], Any]:
    return lambda progress: _train(pipe, config, progress)


def _train(pipe: Any, config: Any, progress: Callable[[int, int], None]) -> bytes:
    from engine.studio.lora.training import train_lora

    crops = synthetic_photos(2, config.resolution)
    result = train_lora(pipe, crops, config, subject="person", on_progress=progress,
                        should_stop=lambda: False)  # fmt: skip
    return result.lora
