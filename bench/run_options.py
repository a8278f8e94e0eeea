"""What one run of bench/gpu_pack.py measures, read once from its command line."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class BenchOptions:
    """Sizes, counts and models of one bench run; `tiny` means the CPU smoke run."""

    tiny: bool
    scratch: Path  # where the tiny models are written
    express_model: str | None = None  # a folder or cache id; None: random real-size weights
    studio_model: str | None = None
    refs: int = 3  # reference crops per express image (HEADSHOTS_EXPRESS_REFERENCES)
    ref_px: int = 512
    runs: int = 2  # timed calls per express measure, after a warm-up
    compile: bool = True
    train_steps: int = 20
    images: int = 4  # timed studio render calls, after a warm-up
    batch: int = 1  # studio images per render call
    style: str = "corporate-grey"
    acceleration: str | None = None  # a real acceleration LoRA file; None: a random stand-in
    acceleration_recipe: str = "hyper-sd-8-cfg"  # engine.studio.lora.acceleration.RECIPES
    compile_train: bool = False  # also time a torch.compile'd training run (minutes on SDXL)
    checkpointing: Literal["auto", "on", "off"] = "auto"
    pack_selfies: int = 10
    pack_images: int = 40
    overgenerate: float = 1.5
    started: float = field(default_factory=time.perf_counter)

    @property
    def device(self) -> str:
        """Return the torch device the run measures."""
        return "cpu" if self.tiny else "cuda"

    @property
    def px(self) -> int:
        """Return the express render side: 1024 px, or the tiny model's 64."""
        return 64 if self.tiny else 1024

    @property
    def candidates(self) -> int:
        """Return how many candidates a pack renders for `pack_images` kept images."""
        return round(self.pack_images * self.overgenerate)
