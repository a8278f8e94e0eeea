"""The contract between the worker (queue, persistence, progress) and the studio (GPU work).

The worker calls these four stages in order, persisting each stage's output to the blob store
before starting the next, so a re-run after a crash skips what is done. Implementations do
blocking work; the worker calls them in a thread. This module imports no heavy library.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

OnProgress = Callable[[int, int], None]
"""Called as `on_progress(done, total)` at real points of the work (a step, an image)."""

ShouldStop = Callable[[], bool]
"""Polled between steps; True means the job was cancelled and the stage must return early."""


class StageCancelledError(Exception):
    """Raised by a stage that saw `should_stop()` return True."""


@dataclass(frozen=True)
class GeneratedImage:
    """One rendered image and what is needed to reproduce it."""

    style_id: str
    seed: int
    png: bytes
    score: float | None = None  # identity distance to the selfies; lower is more alike


class Studio(Protocol):
    """The GPU side of a pack; one instance per worker process, base pipeline loaded once."""

    def preprocess(self, selfies: Sequence[bytes], subject: str) -> list[bytes]:
        """Return face-aligned square training crops (PNG) from the accepted selfies."""

    def train(
        self,
        crops: Sequence[bytes],
        *,
        subject: str,
        seed: int,
        on_progress: OnProgress,
        should_stop: ShouldStop,
    ) -> bytes:
        """Train a LoRA on the crops; return it as safetensors bytes in diffusers' format."""

    def generate(
        self,
        lora: bytes,
        *,
        style_ids: Sequence[str],
        images_per_style: int,
        subject: str,
        seed: int,
        on_progress: OnProgress,
        should_stop: ShouldStop,
    ) -> list[GeneratedImage]:
        """Render `images_per_style` candidates per style with the LoRA as a named adapter."""

    def select(
        self,
        candidates: Sequence[GeneratedImage],
        *,
        selfies: Sequence[bytes],
        keep_per_style: int,
    ) -> list[GeneratedImage]:
        """Drop candidates without exactly one clear face; keep the most alike per style."""
