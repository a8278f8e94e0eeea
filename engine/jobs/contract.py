"""The typed job contract: what a confirmed order is, the job's status, and its stored record.

Everything crosses Redis as JSON; these types are the one place that knows its shape.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from core.errors import HeadshotsError
from engine.jobs.quality import PackQuality

PACK_JOB = "pack"
PAYLOAD_VERSION = 1
SUBJECTS = ("man", "woman", "person")


class Tier(StrEnum):
    """How a pack is made: a personal model trained per person, or the selfies as references."""

    STUDIO = "studio"
    EXPRESS = "express"


class JobStatus(StrEnum):
    """Where a job stands; the last three are final."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """Tell whether nothing follows this status."""
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED})


class FailureCode(StrEnum):
    """Why a pack failed, as a code: the bot words it in the person's language."""

    ERROR = "error"  # anything unexpected; the details are for operators
    TIMEOUT = "timeout"
    EMPTY = "empty"  # the selection kept no image
    CRASHED = "crashed"  # the worker died on it too many times
    NO_FACE = "no_face"  # no selfie had a face the studio could frame
    TIER_OFF = "tier_off"  # this worker does not serve the pack's tier
    EXPIRED = "expired"  # a re-roll whose pack's identity or selfies were already deleted


class CodedError(Exception):
    """An engine error that names the failure code the person is told; mixed into errors."""

    failure_code: FailureCode = FailureCode.ERROR


class PackAlreadyActiveError(HeadshotsError):
    """The person already has a pack queued or running; one at a time."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"a pack is already queued or running: {job_id}")
        self.job_id = job_id


@dataclass(frozen=True)
class SelfieTraits:
    """What the gate measured on one accepted selfie: the express tier picks references by it."""

    quality: float  # the gate's 0-1 score
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    brightness: float = 0.5  # the face's mean brightness, 0-1

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SelfieTraits:
        """Rebuild from the JSON form."""
        return cls(**{name: float(raw[name]) for name in cls.__dataclass_fields__ if name in raw})


@dataclass(frozen=True)
class Reroll:
    """What a re-roll reuses from a delivered pack instead of training again."""

    identity_job_id: str  # the pack whose stored identity artifact renders the new images
    source_job_id: str  # the delivered job (the pack or a re-roll) whose images were shown
    image_key: str = ""  # "more like this": the chosen image's blob key; empty: the whole style
    # The contact-sheet number of its first image: a re-roll continues its pack's numbering, so
    # "⭐ 5" names one image of the pack, whichever album shows it.
    first_number: int = 1

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> Reroll | None:
        """Rebuild from the JSON form (None for a pack)."""
        if not raw:
            return None
        return cls(str(raw["identity_job_id"]), str(raw["source_job_id"]),
                   str(raw.get("image_key", "")), int(raw.get("first_number", 1)))  # fmt: skip


@dataclass(frozen=True)
class PackRequest:
    """One confirmed order: who asked, from which selfies, for what."""

    platform: str
    chat_id: str
    user_id: str
    user_scope: str  # storage.keys.user_scope(platform, user_id)
    selfie_keys: tuple[str, ...]
    subject: str  # "man", "woman" or "person"
    style_ids: tuple[str, ...]
    pack_size: int  # images kept per style
    seed: int
    request_id: str  # stable per confirmation: a double tap gives the same job
    tier: Tier = Tier.STUDIO
    selfie_traits: tuple[SelfieTraits, ...] = ()  # one per selfie key, when the gate measured them
    language: str = "en"  # the person's; the bot writes the job's progress and ending in it
    reroll: Reroll | None = None  # set for a small job reusing a delivered pack's identity
    version: int = PAYLOAD_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "tier", Tier(self.tier))  # JSON gives a plain string
        if self.subject not in SUBJECTS:
            raise ValueError(f"subject must be one of {SUBJECTS}: {self.subject!r}")
        if not self.selfie_keys or not self.style_ids or self.pack_size < 1:
            raise ValueError("a pack needs selfies, styles and a pack size of at least 1")

    @property
    def job_id(self) -> str:
        """Return the job id derived from the person and the request."""
        digest = hashlib.sha256(f"{self.user_scope}:{self.request_id}".encode()).hexdigest()
        return f"pack-{digest[:24]}"

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form carried as the job's argument."""
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PackRequest:
        """Rebuild from the JSON form, ignoring fields a newer version added."""
        data = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
        data |= {"selfie_keys": tuple(raw["selfie_keys"]), "style_ids": tuple(raw["style_ids"])}
        traits = raw.get("selfie_traits") or ()
        data["selfie_traits"] = tuple(SelfieTraits.from_json(item) for item in traits)
        data["reroll"] = Reroll.from_json(raw.get("reroll"))
        return cls(**data)


@dataclass(frozen=True)
class JobRecord:
    """The stored record of one job: its request, status, timing, error and pack quality."""

    job_id: str
    request: PackRequest
    status: JobStatus = JobStatus.QUEUED
    at: float = field(default_factory=time.time)
    error: str | None = None
    finished_at: float | None = None
    quality: PackQuality | None = None  # set when a pack is done

    def to_json(self) -> dict[str, Any]:
        """Return the JSON document the state store keeps."""
        return {
            "job_id": self.job_id, "request": self.request.to_json(), "status": str(self.status),
            "at": self.at, "error": self.error, "finished_at": self.finished_at,
            "quality": None if self.quality is None else self.quality.to_json(),
        }  # fmt: skip

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> JobRecord:
        """Rebuild from the stored document."""
        return cls(
            job_id=str(raw["job_id"]),
            request=PackRequest.from_json(raw["request"]),
            status=JobStatus(raw.get("status", JobStatus.QUEUED)),
            at=float(raw.get("at") or 0.0),
            error=raw.get("error"),
            finished_at=raw.get("finished_at"),
            quality=PackQuality.from_json(raw["quality"]) if raw.get("quality") else None,
        )


@dataclass(frozen=True)
class Enqueued:
    """What enqueue_pack did: the job, whether this call created it, and its queue position."""

    job_id: str
    created: bool
    position: int
