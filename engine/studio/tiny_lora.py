"""A tiny random acceleration LoRA for the tiny SDXL, in diffusers' LoRA file layout.

It stands in for Hyper-SD or SDXL-Lightning in tests and `bench/gpu_pack.py --tiny`: built with
peft on the tiny UNet, saved by the pipeline's own `save_lora_weights`, loaded back through
`load_lora_weights` like the real file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

# A superset of the person's LoRA targets (to_q, to_k, to_v, to_out.0), as the real few-step
# LoRAs are: they cover every attention and feed-forward projection of the UNet.
TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.2")
ADAPTER = "tiny-acceleration"


def write_tiny_acceleration_lora(model: Path, out: Path, weight_name: str, seed: int = 0) -> Path:
    """Write a random LoRA for the UNet of the tiny pipeline at `model`; return the file."""
    import torch
    from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(seed)
    load: Any = UNet2DConditionModel.from_pretrained  # untyped in diffusers
    unet = load(str(model), subfolder="unet")
    # init_lora_weights=False draws lora_B at random too: a zero B would change nothing.
    config = LoraConfig(r=4, lora_alpha=4, init_lora_weights=False, target_modules=list(TARGETS))
    unet.add_adapter(config, adapter_name=ADAPTER)
    layers = get_peft_model_state_dict(unet, adapter_name=ADAPTER)
    out.mkdir(parents=True, exist_ok=True)
    save: Any = StableDiffusionXLPipeline.save_lora_weights
    save(str(out), unet_lora_layers=layers, weight_name=weight_name)
    return out / weight_name


def tiny_acceleration_folder(model: Path, weight_name: str) -> Path:
    """Return a fresh temporary folder holding a tiny acceleration LoRA named `weight_name`."""
    folder = Path(tempfile.mkdtemp(prefix="tiny-acceleration-"))
    write_tiny_acceleration_lora(model, folder, weight_name)
    return folder
