"""What every part of bench/gpu_timing.py shares: the options, the row log, the whole-run budget.

Nothing here imports the settings, the face stack or the test photos: the bare GPU host has only
torch, diffusers, transformers, peft, safetensors, numpy and pillow.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.pack_timing import Row, timed
from bench.run_options import BenchOptions
from bench.timing_log import RowLog


@dataclass
class TimingRun:
    """One timing run: what it measures, where its rows go, and when it must have finished."""

    opts: BenchOptions
    log: RowLog
    budget_s: float
    compile_backend: str = "inductor"

    def left_s(self) -> float:
        """Return the seconds left of the whole-run budget."""
        return self.budget_s - (time.perf_counter() - self.opts.started)

    def fits(self, need_s: float, what: str) -> bool:
        """Tell whether `what` (about `need_s` on an H100) still fits; note it when it does not."""
        if self.left_s() >= need_s:
            return True
        self.log.note(
            f"skipped {what}: {self.left_s():.0f} s of the budget left, needs ~{need_s:.0f}"
        )
        return False

    def part(self, tier: str, name: str, work: Callable[[], Any]) -> Row:
        """Time `work` after one warm-up call and log the row."""
        times, peak = timed(self.opts.device, self.opts.runs + 1, work)
        return self.log.add(Row(tier, name, times[1:], peak))

    def renders(self, tier: str, name: str, batch: int, work: Callable[[], Any]) -> None:
        """Log a batch's first call (the whole call: a compile lands in it) and its steady
        calls per image."""
        times, peak = timed(self.opts.device, self.opts.runs + 1, work)
        self.log.add(Row(tier, f"{name} (first call, whole call)", [times[0]], peak))
        self.log.add(Row(tier, name, [t / batch for t in times[1:]], peak))


def synthetic_photos(count: int, side_px: int) -> list[Any]:
    """Return `count` smooth random colour pictures: random weights draw noise from any input."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    coarse = [rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(count)]
    return [Image.fromarray(c).resize((side_px, side_px), Image.Resampling.BICUBIC) for c in coarse]


def gib_allocated(device: str) -> float | None:
    """Return the GPU memory this process holds now (None on the CPU)."""
    if device != "cuda":
        return None
    import torch

    return torch.cuda.memory_allocated() / 2**30
