"""A random acceleration LoRA for any SDXL UNet, in diffusers' LoRA file layout.

It stands in for Hyper-SD or SDXL-Lightning in tests (on the tiny SDXL) and in
`bench/gpu_pack.py` (on random real-size weights): built with peft on the UNet, saved by the
pipeline's own `save_lora_weights`, loaded back through `load_lora_weights` like the real file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# A superset of the person's LoRA targets (to_q, to_k, to_v, to_out.0), as the real few-step
# LoRAs are: they cover every attention and feed-forward projection of the UNet.
TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2")
ADAPTER = "random-acceleration"
B_SCALE = 0.05  # random lora_B kept small, so the stacked adapters' outputs stay finite in bf16


def write_random_lora(unet: Any, out: Path, weight_name: str, rank: int = 4, seed: int = 0) -> Path:
    """Write a random LoRA of `rank` for `unet` (left without it afterwards); return the file."""
    import torch
    from diffusers import StableDiffusionXLPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(seed)
    # init_lora_weights=False draws lora_B at random too: a zero B would change nothing.
    config = LoraConfig(
        r=rank, lora_alpha=rank, init_lora_weights=False, target_modules=list(TARGETS)
    )
    unet.add_adapter(config, adapter_name=ADAPTER)
    try:
        layers = get_peft_model_state_dict(unet, adapter_name=ADAPTER)
        layers = {k: v * B_SCALE if ".lora_B." in k else v for k, v in layers.items()}
    finally:
        unet.unload_lora()  # the UNet had no adapter before: its original layers come back
    out.mkdir(parents=True, exist_ok=True)
    save: Any = StableDiffusionXLPipeline.save_lora_weights
    save(str(out), unet_lora_layers=layers, weight_name=weight_name)
    return out / weight_name


def write_tiny_acceleration_lora(model: Path, out: Path, weight_name: str, seed: int = 0) -> Path:
    """Write a random LoRA for the UNet of the tiny pipeline saved at `model`; return the file."""
    from diffusers import UNet2DConditionModel

    load: Any = UNet2DConditionModel.from_pretrained  # untyped in diffusers
    return write_random_lora(load(str(model), subfolder="unet"), out, weight_name, seed=seed)
