"""Timing parts of bench/gpu_pack.py: a measured row, timed calls, peak GPU memory, the table."""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Row:
    """One line of the table: a duration (seconds, median of `times_s`) or a figure as text."""

    tier: str
    name: str
    times_s: list[float] = field(default_factory=list)
    peak_gib: float | None = None
    text: str = ""  # a projection or a quality figure instead of a timing

    def median(self) -> float:
        """Return the median duration."""
        return statistics.median(self.times_s)

    def cells(self) -> list[str]:
        """Return the row's cells: tier, measure, median s, n, peak GPU GiB."""
        value = self.text or f"{self.median():.3f}"
        count = str(len(self.times_s)) if self.times_s else ""
        peak = "" if self.peak_gib is None else f"{self.peak_gib:.1f}"
        return [self.tier, self.name, value, count, peak]


def print_table(title: str, rows: list[Row]) -> None:
    """Print every row as one Markdown table."""
    print(f"# {title}")
    print("| tier | measure | median s (or figure) | n | peak GPU GiB |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row.cells()) + " |")


def timed(device: str, calls: int, work: Callable[[], Any]) -> tuple[list[float], float | None]:
    """Run `work` `calls` times; return every duration and the peak GPU GiB over them."""
    import torch

    times = []
    with peak_memory(device) as peak, torch.no_grad():
        for _ in range(calls):
            start = time.perf_counter()
            work()
            sync(device)
            times.append(time.perf_counter() - start)
    return times, peak[0]


def timed_steps(
    device: str, work: Callable[[Callable[[int, int], None]], Any]
) -> tuple[list[float], float, float | None]:
    """Run `work` with a progress callback; return per-callback durations, total, peak GiB."""
    marks: list[float] = []

    def tick(done: int, total: int) -> None:
        sync(device)
        marks.append(time.perf_counter())

    with peak_memory(device) as peak:
        start = time.perf_counter()
        work(tick)
        sync(device)
        total = time.perf_counter() - start
    # The first step carries set-up (latents, adapter); it is left out of the per-step figures.
    durations = [b - a for a, b in itertools.pairwise(marks)] or [marks[0] - start]
    return durations, total, peak[0]


def sync(device: str) -> None:
    """Wait for the GPU's queued work, so a duration covers it."""
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


@contextmanager
def peak_memory(device: str) -> Iterator[list[float | None]]:
    """Yield a one-item list that holds the peak GPU GiB allocated inside the block on exit.

    On the CPU it stays None: the table leaves the cell empty rather than print a zero.
    """
    peak: list[float | None] = [None]
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()
    yield peak
    if device == "cuda":
        peak[0] = torch.cuda.max_memory_allocated() / 2**30
