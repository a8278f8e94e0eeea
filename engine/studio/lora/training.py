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

from engine.studio.adapters import base_model_only
from engine.studio.lora.conditioning import Conditioning, encode
from engine.studio.lora.config import TrainConfig
from engine.studio.lora.trainable import export_lora, training_adapter
from engine.studio.protocol import OnProgress, ShouldStop, StageCancelledError

__all__ = ["TrainConfig", "TrainResult", "make_optimizer", "train_lora"]


@dataclass(frozen=True)
class TrainResult:
    """The trained LoRA in diffusers' format and the loss of each optimizer step."""

    lora: bytes
    losses: tuple[float, ...]


@dataclass(frozen=True)
class _Photos:
    """Training images: latents encoded once (cached), or pixels encoded again at each step."""

    pipe: Any
    tensors: torch.Tensor  # latents when cached, pixels in [-1, 1] otherwise
    cached: bool

    def __len__(self) -> int:
        return len(self.tensors)

    def sample(self, size: int, generator: torch.Generator) -> torch.Tensor:
        """Return the latents of `size` photos drawn with replacement."""
        device = self.tensors.device
        index = torch.randint(0, len(self.tensors), (size,), generator=generator, device=device)
        chosen = self.tensors[index]
        return chosen if self.cached else _encode_pixels(self.pipe, chosen)


@dataclass(frozen=True)
class _Run:
    """The fixed inputs of one training run, prepared once."""

    pipe: Any
    unet: Any  # the pipeline's UNet, or its torch.compile wrapper
    config: TrainConfig
    subject: str
    instance: _Photos
    prior: _Photos | None  # the class images for prior preservation
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
    instance = _photos(pipe, crops, config)
    prior = _prior_photos(pipe, config, subject, generator) if config.prior_preservation else None
    with training_adapter(pipe, config) as params:
        unet = pipe.unet
        if config.compile_unet:
            unet = torch.compile(pipe.unet, backend=config.compile_backend)
        run = _Run(pipe, unet, config, subject, instance, prior, generator)
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
    optimizer = make_optimizer(config, params)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config, total))
    cache = config.cache_inputs and not config.train_text_encoder  # trained encoders change
    frozen = _conditions(run.pipe, config, run.subject) if cache else None
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
    latents = run.instance.sample(size, run.generator)
    loss = _denoise_loss(run, latents, conditions[0].repeat(len(latents)))
    if run.prior is not None and conditions[1] is not None:
        class_latents = run.prior.sample(size, run.generator)
        prior_loss = _denoise_loss(run, class_latents, conditions[1].repeat(len(class_latents)))
        loss = loss + run.config.prior_loss_weight * prior_loss
    return loss


def _denoise_loss(run: _Run, latents: torch.Tensor, cond: Conditioning) -> torch.Tensor:
    unet, scheduler, generator = run.unet, run.pipe.scheduler, run.generator
    noise = torch.randn(latents.shape, generator=generator, device=latents.device)
    steps = scheduler.config.num_train_timesteps
    t = torch.randint(0, steps, (len(latents),), generator=generator, device=latents.device)
    noisy = _add_noise(scheduler, latents, noise, t)
    with _autocast(run.config, latents.device):
        noisy = noisy.to(run.pipe.unet.dtype)  # the compile wrapper has no dtype
        prediction = unet(noisy, t, cond.hidden, added_cond_kwargs=cond.added).sample
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


def _conditions(
    pipe: Any, config: TrainConfig, subject: str
) -> tuple[Conditioning, Conditioning | None]:
    grad = torch.enable_grad() if config.train_text_encoder else torch.no_grad()
    with grad, _autocast(config, pipe.unet.device):
        instance = encode(pipe, config.caption(subject), config.resolution)
        if not config.prior_preservation:
            return instance, None
        return instance, encode(pipe, f"photo of a {subject}", config.resolution)


def _photos(pipe: Any, images: Sequence[Image.Image], config: TrainConfig) -> _Photos:
    """Return the images as training input: encoded once here when caching is on."""
    vae = pipe.vae
    pixels = torch.stack([_to_tensor(image, config.resolution) for image in images])
    pixels = pixels.to(vae.device, vae.dtype)
    if not config.cache_inputs:
        return _Photos(pipe, pixels, cached=False)
    return _Photos(pipe, _encode_pixels(pipe, pixels), cached=True)


@torch.no_grad()
def _encode_pixels(pipe: Any, pixels: torch.Tensor) -> torch.Tensor:
    """Return the scaled latents of the pixels, encoded one image at a time (same numbers)."""
    vae = pipe.vae
    latents = torch.cat([vae.encode(p[None]).latent_dist.mode() for p in pixels])
    shift = getattr(vae.config, "shift_factor", None) or 0.0
    scaled: torch.Tensor = (latents.float() - shift) * vae.config.scaling_factor
    return scaled.detach()


def _to_tensor(image: Image.Image, resolution: int) -> torch.Tensor:
    square = image.convert("RGB").resize((resolution, resolution), Image.Resampling.LANCZOS)
    array = np.asarray(square, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1)


def _prior_photos(
    pipe: Any, config: TrainConfig, subject: str, generator: torch.Generator
) -> _Photos:
    """Render class images with the base model alone (no adapter) for prior preservation."""
    with base_model_only(pipe):
        images = pipe(
            prompt=[f"photo of a {subject}"] * config.class_images,
            height=config.resolution,
            width=config.resolution,
            num_inference_steps=25,
            generator=generator,
        ).images
    return _photos(pipe, images, config)


def make_optimizer(config: TrainConfig, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    """Return the run's optimizer: AdamW, fused into one kernel per step on CUDA when asked.

    Not on the CPU: there the fused kernel's rounding differs from the default's and buys
    nothing a CPU worker (tiny models, tests) needs.
    """
    on_cuda = params[0].device.type == "cuda"
    if config.optimizer == "adamw8bit" and on_cuda:
        import bitsandbytes as bnb  # optional: only worth it on CUDA for large ranks

        optimizer: torch.optim.Optimizer = bnb.optim.AdamW8bit(params, lr=config.learning_rate)
        return optimizer
    fused = (config.fused_adamw and on_cuda) or None  # None: torch's own choice (foreach)
    return torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=1e-2, fused=fused)


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
