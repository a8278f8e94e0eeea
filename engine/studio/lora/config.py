"""The frozen, typed configuration of one LoRA training run (light: no torch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


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
    gradient_checkpointing: Literal["auto", "on", "off"] = "auto"  # auto: under 40 GiB usable
    optimizer: Literal["adamw", "adamw8bit"] = "adamw"
    instance_token: str = "ohwx"
    # Speed knobs (HEADSHOTS_TRAIN_*): encode the photos and the caption once per run rather
    # than at every step; AdamW's fused kernel on CUDA; torch.compile of the UNet (it recompiles for
    # every job's fresh adapter, so it pays only on long runs: off unless the bench says so).
    cache_inputs: bool = True
    fused_adamw: bool = True
    compile_unet: bool = False
    compile_backend: str = "inductor"  # "eager": dynamo traces but generates no code (tests)

    def steps_for(self, photos: int) -> int:
        """Return the optimizer steps for `photos` training photos: proportional, then capped."""
        return max(1, min(self.max_steps, max(self.min_steps, photos * self.steps_per_photo)))

    def person(self, subject: str) -> str:
        """Return how prompts name the person, e.g. `ohwx man`."""
        return f"{self.instance_token} {subject}"

    def caption(self, subject: str) -> str:
        """Return the instance caption, e.g. `photo of ohwx man`."""
        return f"photo of {self.person(subject)}"
