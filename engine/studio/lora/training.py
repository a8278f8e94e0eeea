"""DreamBooth-LoRA training as a function of a frozen config, on a shared, loaded base pipeline.

The LoRA is added to the pipeline's UNet (and optionally its text encoders) under a temporary
adapter name, trained, exported in diffusers' format and deleted again: the base weights never
require gradients and are never changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from engine.studio.lora.conditioning import Conditioning, encode
from engine.studio.lora.config import TrainConfig
from engine.studio.lora.trainable import export_lora, training_adapter
from engine.studio.protocol import OnProgress, ShouldStop, StageCancelledError

__all__ = ["TrainConfig", "TrainResult", "train_lora"]


@dataclass(frozen=True)
class TrainResult:
    """The trained LoRA in diffusers' format and the loss of each optimizer step."""

    lora: bytes
    losses: tuple[float, ...]


@dataclass(frozen=True)
class _Run:
    """The fixed inputs of one training run, prepared once."""

    pipe: Any
    config: TrainConfig
    subject: str
    instance: torch.Tensor  # cached latents of the photos
    prior: torch.Tensor | None  # cached latents of the class images
    generator: torch.Generator


def train_lora(
    pipe: Any,
    crops: Sequence[Image.Image],
    config: TrainConfig,
    *,
    subject: str,
    on_progress: OnProgress,
    should_stop: ShouldStop,
) -> TrainResult:
    """Train a DreamBooth LoRA of `subject` on the crops; the pipeline is left as it was."""
    generator = torch.Generator(pipe.unet.device).manual_seed(config.seed)
    instance = _encode_latents(pipe, crops, config.resolution)
    prior = _prior_latents(pipe, config, subject, generator) if config.prior_preservation else None
    run = _Run(pipe, config, subject, instance, prior, generator)
    with training_adapter(pipe, config) as params:
        losses = _loop(run, params, on_progress=on_progress, should_stop=should_stop)
        lora = export_lora(pipe, config)
    return TrainResult(lora, tuple(losses))


def _loop(
    run: _Run,
    params: list[torch.nn.Parameter],
    *,
    on_progress: OnProgress,
    should_stop: ShouldStop,
) -> list[float]:
    config = run.config
    total = config.steps_for(len(run.instance))
    optimizer = _optimizer(config, params)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config, total))
    frozen = None if config.train_text_encoder else _conditions(run.pipe, config, run.subject)
    losses: list[float] = []
    for step in range(total):
        if should_stop():
            raise StageCancelledError("training cancelled")
        step_loss = 0.0
        for _ in range(config.gradient_accumulation):
            loss = _loss(run, frozen or _conditions(run.pipe, config, run.subject))
            torch.autograd.backward(loss / config.gradient_accumulation)
            step_loss += loss.item() / config.gradient_accumulation
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(step_loss)
        on_progress(step + 1, total)
    return losses


def _loss(run: _Run, conditions: tuple[Conditioning, Conditioning | None]) -> torch.Tensor:
    size = run.config.batch_size
    latents = _batch(run.instance, size, run.generator)
    loss = _denoise_loss(run, latents, conditions[0].repeat(len(latents)))
    if run.prior is not None and conditions[1] is not None:
        class_latents = _batch(run.prior, size, run.generator)
        prior_loss = _denoise_loss(run, class_latents, conditions[1].repeat(len(class_latents)))
        loss = loss + run.config.prior_loss_weight * prior_loss
    return loss


def _denoise_loss(run: _Run, latents: torch.Tensor, cond: Conditioning) -> torch.Tensor:
    unet, scheduler, generator = run.pipe.unet, run.pipe.scheduler, run.generator
    noise = torch.randn(latents.shape, generator=generator, device=latents.device)
    steps = scheduler.config.num_train_timesteps
    t = torch.randint(0, steps, (len(latents),), generator=generator, device=latents.device)
    noisy = _add_noise(scheduler, latents, noise, t)
    with _autocast(run.config, latents.device):
        prediction = unet(noisy.to(unet.dtype), t, cond.hidden, added_cond_kwargs=cond.added).sample
    target = noise
    if scheduler.config.prediction_type == "v_prediction":
        target = _velocity(scheduler, latents, noise, t)
    return torch.nn.functional.mse_loss(prediction.float(), target.float())


def _add_noise(
    scheduler: Any, latents: torch.Tensor, noise: torch.Tensor, t: torch.Tensor
) -> torch.Tensor:
    alphas = _alphas_cumprod(scheduler, latents.device)[t].view(-1, 1, 1, 1)
    return alphas.sqrt() * latents + (1 - alphas).sqrt() * noise


def _velocity(
    scheduler: Any, latents: torch.Tensor, noise: torch.Tensor, t: torch.Tensor
) -> torch.Tensor:
    alphas = _alphas_cumprod(scheduler, latents.device)[t].view(-1, 1, 1, 1)
    return alphas.sqrt() * noise - (1 - alphas).sqrt() * latents


def _alphas_cumprod(scheduler: Any, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(scheduler.alphas_cumprod, dtype=torch.float32, device=device)


def _batch(latents: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    index = torch.randint(0, len(latents), (size,), generator=generator, device=latents.device)
    return latents[index]


def _conditions(
    pipe: Any, config: TrainConfig, subject: str
) -> tuple[Conditioning, Conditioning | None]:
    grad = torch.enable_grad() if config.train_text_encoder else torch.no_grad()
    with grad, _autocast(config, pipe.unet.device):
        instance = encode(pipe, config.caption(subject), config.resolution)
        if not config.prior_preservation:
            return instance, None
        return instance, encode(pipe, f"photo of a {subject}", config.resolution)


@torch.no_grad()
def _encode_latents(pipe: Any, images: Sequence[Image.Image], resolution: int) -> torch.Tensor:
    """Encode the images once; training then samples from this cache."""
    vae = pipe.vae
    pixels = torch.stack([_to_tensor(image, resolution) for image in images])
    pixels = pixels.to(vae.device, vae.dtype)
    latents = torch.cat([vae.encode(p[None]).latent_dist.mode() for p in pixels])
    shift = getattr(vae.config, "shift_factor", None) or 0.0
    scaled: torch.Tensor = (latents.float() - shift) * vae.config.scaling_factor
    return scaled.detach()


def _to_tensor(image: Image.Image, resolution: int) -> torch.Tensor:
    square = image.convert("RGB").resize((resolution, resolution), Image.Resampling.LANCZOS)
    array = np.asarray(square, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1)


def _prior_latents(
    pipe: Any, config: TrainConfig, subject: str, generator: torch.Generator
) -> torch.Tensor:
    """Render class images with the untouched base model for prior preservation."""
    images = pipe(
        prompt=[f"photo of a {subject}"] * config.class_images,
        height=config.resolution,
        width=config.resolution,
        num_inference_steps=25,
        generator=generator,
    ).images
    return _encode_latents(pipe, images, config.resolution)


def _optimizer(config: TrainConfig, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    on_cuda = params[0].device.type == "cuda"
    if config.optimizer == "adamw8bit" and on_cuda:
        import bitsandbytes as bnb  # optional: only worth it on CUDA for large ranks

        optimizer: torch.optim.Optimizer = bnb.optim.AdamW8bit(params, lr=config.learning_rate)
        return optimizer
    return torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=1e-2, fused=on_cuda)


def _lr_lambda(config: TrainConfig, total: int) -> Any:
    def factor(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        progress = (step - config.warmup_steps) / max(1, total - config.warmup_steps)
        if config.schedule == "linear":
            return max(0.0, 1.0 - progress)
        if config.schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        return 1.0

    return factor


def _autocast(config: TrainConfig, device: torch.device) -> Any:
    if config.mixed_precision == "no":
        return nullcontext()
    dtype = torch.bfloat16 if config.mixed_precision == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)
