"""DreamBooth-LoRA training as a function of a frozen config, on a shared, loaded base pipeline.

The LoRA is added to the pipeline's UNet (and optionally its text encoders) under a temporary
adapter name, trained, exported in diffusers' format and deleted again: the base weights never
require gradients and are never changed.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image

from engine.conditioning import Conditioning, encode, is_sdxl
from engine.stages import OnProgress, ShouldStop, StageCancelledError

TRAIN_ADAPTER = "dreambooth-train"
LORA_FILE = "pytorch_lora_weights.safetensors"
UNET_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")
TEXT_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj")


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of one training run; the defaults are the fast SDXL recipe."""

    base_model: str = "stabilityai/stable-diffusion-xl-base-1.0"
    resolution: int = 1024
    rank: int = 16
    alpha: int = 16
    steps_per_photo: int = 40
    min_steps: int = 150
    max_steps: int = 500
    learning_rate: float = 1e-4
    schedule: Literal["constant", "linear", "cosine"] = "constant"
    warmup_steps: int = 0
    batch_size: int = 1
    gradient_accumulation: int = 1
    mixed_precision: Literal["no", "fp16", "bf16"] = "bf16"
    seed: int = 0
    train_text_encoder: bool = False
    prior_preservation: bool = False
    prior_loss_weight: float = 1.0
    class_images: int = 8
    gradient_checkpointing: bool = True
    optimizer: Literal["adamw", "adamw8bit"] = "adamw"
    instance_token: str = "ohwx"

    def steps_for(self, photos: int) -> int:
        """Return the optimizer steps for `photos` training photos: proportional, then capped."""
        return max(1, min(self.max_steps, max(self.min_steps, photos * self.steps_per_photo)))

    def caption(self, subject: str) -> str:
        """Return the instance caption, e.g. `photo of ohwx man`."""
        return f"photo of {self.instance_token} {subject}"


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
    with _training_adapter(pipe, config) as params:
        losses = _loop(run, params, on_progress=on_progress, should_stop=should_stop)
        lora = _export(pipe, config)
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


@contextmanager
def _training_adapter(pipe: Any, config: TrainConfig) -> Iterator[list[torch.nn.Parameter]]:
    """Add the trainable LoRA adapters; remove them on the way out, whatever happens."""
    from peft import LoraConfig

    models = _trained_models(pipe, config)
    torch.manual_seed(config.seed)  # peft initialises lora_A from the global generator
    try:
        for model, targets in models:
            model.requires_grad_(False)
            lora = LoraConfig(
                r=config.rank,
                lora_alpha=int(config.alpha),
                init_lora_weights="gaussian",
                target_modules=list(targets),
            )
            model.add_adapter(lora, adapter_name=TRAIN_ADAPTER)
            _prepare(model, config)
        yield [p for model, _ in models for p in model.parameters() if p.requires_grad]
    finally:
        for model, _ in models:
            _restore(model)
        pipe.unload_lora_weights()  # drops the peft wrappers; the base layers are the originals


def _trained_models(pipe: Any, config: TrainConfig) -> list[tuple[Any, tuple[str, ...]]]:
    models: list[tuple[Any, tuple[str, ...]]] = [(pipe.unet, UNET_TARGETS)]
    if config.train_text_encoder:
        models.append((pipe.text_encoder, TEXT_TARGETS))
        if is_sdxl(pipe):
            models.append((pipe.text_encoder_2, TEXT_TARGETS))
    return models


def _prepare(model: Any, config: TrainConfig) -> None:
    for param in model.parameters():
        if param.requires_grad:
            param.data = param.data.float()  # the LoRA trains in fp32 under autocast
    on_cuda = next(model.parameters()).device.type == "cuda"
    if (
        config.gradient_checkpointing
        and on_cuda
        and hasattr(model, "enable_gradient_checkpointing")
    ):
        model.enable_gradient_checkpointing()
    model.train()


def _restore(model: Any) -> None:
    if model.__class__.__name__.startswith("UNet") and model.is_gradient_checkpointing:
        model.disable_gradient_checkpointing()
    model.eval()


def _export(pipe: Any, config: TrainConfig) -> bytes:
    """Return the trained adapters as one safetensors file in diffusers' LoRA format."""
    from peft.utils import get_peft_model_state_dict

    layers: dict[str, Any] = {}
    for model, _ in _trained_models(pipe, config):
        state = get_peft_model_state_dict(model, adapter_name=TRAIN_ADAPTER)
        layers[_layer_key(pipe, model)] = {k: v.detach().cpu() for k, v in state.items()}
    extra = {
        f"{_layer_key(pipe, model).removesuffix('_layers')}_adapter_metadata": _metadata(model)
        for model, _ in _trained_models(pipe, config)
    }
    with tempfile.TemporaryDirectory() as tmp:
        type(pipe).save_lora_weights(tmp, **layers, **extra, weight_name=LORA_FILE)
        return Path(tmp, LORA_FILE).read_bytes()


def _metadata(model: Any) -> dict[str, Any]:
    """Return the adapter's LoraConfig as JSON-ready values, so loading needs no guessing."""
    config = model.peft_config[TRAIN_ADAPTER].to_dict()
    return {k: sorted(v) if isinstance(v, set) else v for k, v in config.items()}


def _layer_key(pipe: Any, model: Any) -> str:
    if model is pipe.unet:
        return "unet_lora_layers"
    if model is pipe.text_encoder:
        return "text_encoder_lora_layers"
    return "text_encoder_2_lora_layers"


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
