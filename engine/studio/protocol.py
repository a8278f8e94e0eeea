"""The contract between the worker (queue, persistence, progress) and a studio backend (GPU work).

The worker calls four stages in order, persisting each stage's output to the blob store before
starting the next, so a re-run after a crash skips what is done. Backends do blocking work; the
worker calls them in a thread. A backend turns the person's crops into an `Identity` (a LoRA for
the studio tier, chosen reference crops for the express tier) and renders styles with it; the
worker stores that identity by name and kind and never looks inside. Imports no heavy library.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.jobs.contract import SelfieTraits, Tier
from engine.jobs.quality import GroupQuality, PackQuality

__all__ = [
    "GeneratedImage",
    "GroupQuality",
    "Identity",
    "IdentityFile",
    "OnProgress",
    "PackQuality",
    "RenderOrder",
    "Selection",
    "SelfieTraits",
    "ShouldStop",
    "StageCancelledError",
    "StageContext",
    "Studio",
    "Tier",
]

OnProgress = Callable[[int, int], None]
"""Called as `on_progress(done, total)` at real points of the work (a step, an image)."""

ShouldStop = Callable[[], bool]
"""Polled between steps; True means the job was cancelled and the stage must return early."""


class StageCancelledError(Exception):
    """Raised by a stage that saw `should_stop()` return True."""


@dataclass(frozen=True)
class StageContext:
    """What every stage of one job is told: who it is for, its seed, and the worker's hooks."""

    subject: str  # "man", "woman" or "person"
    seed: int
    on_progress: OnProgress
    should_stop: ShouldStop
    traits: tuple[SelfieTraits, ...] = ()  # the gate's measures of each selfie, in their order

    def check(self) -> None:
        """Raise StageCancelledError when the job was cancelled."""
        if self.should_stop():
            raise StageCancelledError


@dataclass(frozen=True)
class IdentityFile:
    """One file of an identity artifact, stored under the job's blobs by its name."""

    name: str  # a plain file name: "lora.safetensors", "ref-000.png"
    data: bytes


@dataclass(frozen=True)
class Identity:
    """What a backend needs to render one person; opaque to the worker, which only stores it."""

    kind: str  # the backend's own word: "lora", "references"
    files: tuple[IdentityFile, ...]

    def file(self, name: str) -> bytes:
        """Return the file called `name`, raising KeyError when the identity has none."""
        for item in self.files:
            if item.name == name:
                return item.data
        raise KeyError(name)


@dataclass(frozen=True)
class RenderOrder:
    """What to render: the styles and how many candidates of each.

    With `near_seed` the order asks for variations of one delivered image ("more like this"):
    its outfit and background, nearby seeds, the light varied a little. `reference` is that
    image; the express tier gives it to every render as an extra reference.
    """

    style_ids: tuple[str, ...]
    images_per_style: int
    near_seed: int | None = None
    reference: bytes | None = None


@dataclass(frozen=True)
class GeneratedImage:
    """One rendered image and what is needed to reproduce it."""

    style_id: str
    seed: int
    png: bytes
    score: float | None = None  # identity distance to the selfies; lower is more alike


@dataclass(frozen=True)
class Selection:
    """What `select` kept, best first per style, and the pack's quality measured on the way."""

    images: tuple[GeneratedImage, ...]
    quality: PackQuality


class Studio(Protocol):
    """The GPU side of a pack; one instance per worker process and tier, models loaded once."""

    tier: Tier

    def preprocess(self, selfies: Sequence[bytes], subject: str) -> list[bytes]:
        """Return face-aligned square crops (PNG) of the accepted selfies."""

    def personalize(self, crops: Sequence[bytes], ctx: StageContext) -> Identity:
        """Return the person's identity artifact, made from the crops."""

    def generate(
        self, identity: Identity, order: RenderOrder, ctx: StageContext
    ) -> list[GeneratedImage]:
        """Render the order's candidates of the person the identity describes."""

    def select(
        self,
        candidates: Sequence[GeneratedImage],
        *,
        selfies: Sequence[bytes],
        keep_per_style: int,
    ) -> Selection:
        """Drop candidates without exactly one clear face; keep the most alike per style."""
