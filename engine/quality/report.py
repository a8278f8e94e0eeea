"""What the gate answers: verdicts, findings with stable reason codes, per-photo and set reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from core.errors import HeadshotsError


class Verdict(StrEnum):
    """The gate's answer for one photo."""

    ACCEPTED = "accepted"
    WARNING = "warning"  # accepted, but a better photo would help
    REJECTED = "rejected"


@dataclass(frozen=True)
class Finding:
    """One problem: a stable reason code, a friendly message that says how to fix it."""

    code: str
    message: str
    severity: Verdict
    score: float | None = None


@dataclass(frozen=True)
class FaceRecord:
    """What the set remembers about an accepted photo's face.

    `pose` is (yaw, pitch) in degrees, `light` the face's (brightness, left-right balance) and
    `outfit` the mean Lab colour below the chin; they feed the set's variety hints and may be
    left empty by callers that do not keep them.
    """

    label: str
    descriptor: tuple[float, ...]
    face_hash: str
    quality: float
    pose: tuple[float, ...] = ()
    light: tuple[float, ...] = ()
    outfit: tuple[float, ...] = ()


@dataclass(frozen=True)
class PhotoReport:
    """The verdict on one photo, its findings worst first, key scores and a one-line summary."""

    verdict: Verdict
    findings: tuple[Finding, ...]
    scores: dict[str, float] = field(default_factory=dict)
    face: FaceRecord | None = None
    summary: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        """Return the reason codes of the findings."""
        return tuple(f.code for f in self.findings)


@dataclass(frozen=True)
class SetReport:
    """Whether the accepted photos make a set ready to train, and what would improve it."""

    ready: bool
    accepted: int
    problems: tuple[str, ...]
    hints: tuple[str, ...]
    score: float


class QualityError(HeadshotsError):
    """A photo that cannot be analysed at all (unreadable, too large, wrong format)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
