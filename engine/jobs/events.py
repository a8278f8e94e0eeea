"""Progress events of a pack job: typed records published by the worker, read by the notifier.

Re-exported by `engine.jobs`, the contract the bot imports. Imports no heavy library.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import ClassVar, cast


@dataclass(frozen=True, kw_only=True)
class JobEvent:
    """Base of every progress event; `at` is the publisher's wall clock (epoch seconds)."""

    kind: ClassVar[str] = ""
    job_id: str
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, kw_only=True)
class Queued(JobEvent):
    """Waiting; `position` 1 means no other job is ahead."""

    kind: ClassVar[str] = "queued"
    position: int
    eta_s: float | None = None
    first_estimate: bool = False  # no pack of the tier finished on this host yet


@dataclass(frozen=True, kw_only=True)
class Preparing(JobEvent):
    """Cropping and aligning the selfies."""

    kind: ClassVar[str] = "preparing"
    eta_s: float | None = None
    first_estimate: bool = False  # no pack of the tier finished on this host yet


@dataclass(frozen=True, kw_only=True)
class Training(JobEvent):
    """Personalizing: training the person's LoRA (studio) or choosing references (express)."""

    kind: ClassVar[str] = "training"
    step: int
    total: int
    eta_s: float | None = None
    first_estimate: bool = False  # no pack of the tier finished on this host yet
    tier: str = "studio"  # a contract.Tier; the express tier trains nothing
    restarted: bool = False  # a later try after a crash or restart: the count began again


@dataclass(frozen=True, kw_only=True)
class Generating(JobEvent):
    """Rendering candidates."""

    kind: ClassVar[str] = "generating"
    done: int
    total: int
    eta_s: float | None = None
    first_estimate: bool = False  # no pack of the tier finished on this host yet
    restarted: bool = False  # a later try after a crash or restart: the count began again


@dataclass(frozen=True, kw_only=True)
class Selecting(JobEvent):
    """Filtering and ranking the candidates by likeness."""

    kind: ClassVar[str] = "selecting"
    eta_s: float | None = None
    first_estimate: bool = False  # no pack of the tier finished on this host yet


@dataclass(frozen=True, kw_only=True)
class Delivering(JobEvent):
    """Storing the chosen images for delivery."""

    kind: ClassVar[str] = "delivering"


@dataclass(frozen=True)
class StyleResult:
    """The delivered images of one style, as blob keys, best first."""

    style_id: str
    keys: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Done(JobEvent):
    """Finished: the result blob keys per style."""

    kind: ClassVar[str] = "done"
    results: tuple[StyleResult, ...]


@dataclass(frozen=True, kw_only=True)
class Failed(JobEvent):
    """Failed for good; `code` (a contract.FailureCode) is worded for the person by the bot."""

    kind: ClassVar[str] = "failed"
    code: str = "error"


@dataclass(frozen=True, kw_only=True)
class Cancelled(JobEvent):
    """Stopped at the person's request; partial outputs were removed."""

    kind: ClassVar[str] = "cancelled"


ProgressEvent = (
    Queued | Preparing | Training | Generating | Selecting | Delivering | Done | Failed | Cancelled
)
TerminalEvent = Done | Failed | Cancelled
_EVENT_TYPES: dict[str, type[JobEvent]] = {
    cls.kind: cls
    for cls in (Queued, Preparing, Training, Generating, Selecting, Delivering, Done, Failed)
}
_EVENT_TYPES[Cancelled.kind] = Cancelled


def event_to_json(event: JobEvent) -> str:
    """Return the event as one JSON object with its `kind`."""
    return json.dumps({"kind": event.kind, **asdict(event)}, separators=(",", ":"))


def event_from_json(text: str | bytes) -> ProgressEvent:
    """Rebuild an event from `event_to_json`'s output, raising ValueError on anything else."""
    raw = json.loads(text)
    cls = _EVENT_TYPES.get(raw.pop("kind", None)) if isinstance(raw, dict) else None
    if cls is None:
        raise ValueError(f"not a progress event: {text!r}")
    if cls is Done:
        raw["results"] = tuple(
            StyleResult(item["style_id"], tuple(item["keys"])) for item in raw["results"]
        )
    return cast(ProgressEvent, cls(**raw))


def is_terminal(event: JobEvent) -> bool:
    """Return whether nothing follows this event."""
    return isinstance(event, Done | Failed | Cancelled)
