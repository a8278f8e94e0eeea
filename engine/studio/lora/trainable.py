"""The trainable LoRA adapters: added under a temporary name, exported, then removed again."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from engine.studio.adapters import beside_resident, remove_adapter
from engine.studio.lora.conditioning import is_sdxl
from engine.studio.lora.config import TrainConfig

TRAIN_ADAPTER = "dreambooth-train"
LORA_FILE = "pytorch_lora_weights.safetensors"
UNET_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")
TEXT_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj")
CHECKPOINT_BELOW_BYTES = 40 * 2**30  # auto mode checkpoints when training can use less


@contextmanager
def training_adapter(pipe: Any, config: TrainConfig) -> Iterator[list[torch.nn.Parameter]]:
    """Add the trainable LoRA adapters; remove them on the way out, whatever happens.

    A resident acceleration adapter stays loaded but inactive: `add_adapter` makes the new one
    the only active adapter, so the person's LoRA learns against the base model.
    """
    from peft import LoraConfig

    models = _trained_models(pipe, config)
    checkpoint = _checkpointing(config, pipe)
    torch.manual_seed(config.seed)  # peft initialises lora_A from the global generator
    try:
        for model, targets in models:
            model.requires_grad_(False)
            lora = LoraConfig(
                r=config.rank,
                lora_alpha=config.alpha,
                init_lora_weights="gaussian",
                target_modules=list(targets),
            )
            with beside_resident():
                model.add_adapter(lora, adapter_name=TRAIN_ADAPTER)
            _prepare(model, checkpoint)
        yield [p for model, _ in models for p in model.parameters() if p.requires_grad]
    finally:
        for model, _ in models:
            _restore(model)
        remove_adapter(pipe, TRAIN_ADAPTER)  # the base layers are the originals again


def _trained_models(pipe: Any, config: TrainConfig) -> list[tuple[Any, tuple[str, ...]]]:
    models: list[tuple[Any, tuple[str, ...]]] = [(pipe.unet, UNET_TARGETS)]
    if config.train_text_encoder:
        models.append((pipe.text_encoder, TEXT_TARGETS))
        if is_sdxl(pipe):
            models.append((pipe.text_encoder_2, TEXT_TARGETS))
    return models


def _prepare(model: Any, checkpoint: bool) -> None:
    for param in model.parameters():
        if param.requires_grad:
            param.data = param.data.float()  # the LoRA trains in fp32 under autocast
    if checkpoint and hasattr(model, "enable_gradient_checkpointing"):
        model.enable_gradient_checkpointing()
    model.train()


def _checkpointing(config: TrainConfig, pipe: Any) -> bool:
    """Trade compute for memory only on CUDA, and in auto mode only where memory is short."""
    device = pipe.unet.device
    if device.type != "cuda" or config.gradient_checkpointing == "off":
        return False
    if config.gradient_checkpointing == "on":
        return True
    return should_checkpoint(*memory_parts(pipe))


def memory_parts(pipe: Any) -> tuple[int, int, int]:
    """Return the CUDA device's free bytes, our allocator's unused bytes and the pipeline's own."""
    device = pipe.unet.device
    free, _ = torch.cuda.mem_get_info(device)
    cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    return free, cached, pipeline_bytes(pipe, device)


def should_checkpoint(free_bytes: int, cached_bytes: int, own_bytes: int) -> bool:
    """Tell whether training would be short of memory without gradient checkpointing.

    What training can use is the device's free memory, what this process's allocator holds
    unused, and the studio's own weights: not the card's total, since a co-resident express
    pipeline (about 16 GiB of FLUX.2 klein on the same card) already holds its share.
    """
    return free_bytes + cached_bytes + own_bytes < CHECKPOINT_BELOW_BYTES


def pipeline_bytes(pipe: Any, device: torch.device) -> int:
    """Return the bytes of the pipeline's weights and buffers that sit on `device`."""
    total = 0
    for name in ("unet", "vae", "text_encoder", "text_encoder_2"):
        module = getattr(pipe, name, None)
        if module is not None:
            tensors = [*module.parameters(), *module.buffers()]
            total += sum(t.numel() * t.element_size() for t in tensors if t.device == device)
    return total


def _restore(model: Any) -> None:
    from diffusers import ModelMixin  # transformers' models were never checkpointed here

    from_diffusers = isinstance(model, ModelMixin)
    if from_diffusers and model.is_gradient_checkpointing:
        model.disable_gradient_checkpointing()
    model.eval()


def export_lora(pipe: Any, config: TrainConfig) -> bytes:
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
