"""What the gate answers: verdicts, findings with stable reason codes, per-photo and set reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from babel.lists import format_list

from core.errors import HeadshotsError


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "marked, translated later")
    """Mark a message id for the bot's catalog (see `words`)."""
    return message


Param = str | int | float | tuple[str, ...]


@dataclass(frozen=True)
class Words:
    """What the gate tells a person, as an English gettext message id and its parameters.

    The engine never words a message for the chat: the bot translates the id into the person's
    language (bot.text.gate), the CLI prints `english()`. A tuple parameter is a list of names,
    joined the way the language joins lists ("photo 1, photo 2 and photo 3"); a parameter may
    also be other words, translated on their own.
    """

    id: str
    params: tuple[tuple[str, Param | Words], ...] = ()

    def english(self) -> str:
        """Return the words in English."""
        values = {name: _english(value) for name, value in self.params}
        return self.id.format(**values)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form that crosses the image pool."""
        return {"id": self.id, "params": {name: _json(value) for name, value in self.params}}


def words(message: str, **params: Param | Words) -> Words:
    """Return `message` (a literal: the catalog's extractor reads it here) with `params`."""
    return Words(message, tuple(params.items()))


def _english(value: Param | Words) -> str | int | float:
    if isinstance(value, Words):
        return value.english()
    if isinstance(value, tuple):
        return format_list(list(value), locale="en")
    return value


def _json(value: Param | Words) -> Any:
    if isinstance(value, Words):
        return value.to_json()
    return list(value) if isinstance(value, tuple) else value


class Verdict(StrEnum):
    """The gate's answer for one photo."""

    ACCEPTED = "accepted"
    WARNING = "warning"  # accepted, but a better photo would help
    REJECTED = "rejected"


@dataclass(frozen=True)
class Finding:
    """One problem: a stable reason code, a friendly message that says how to fix it."""

    code: str
    message: Words
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

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FaceRecord:
        """Rebuild from the JSON form (lists for tuples), ignoring fields this version lacks."""
        known = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
        for name in ("descriptor", "pose", "light", "outfit"):
            known[name] = tuple(float(v) for v in known.get(name, ()))
        return cls(**known)


@dataclass(frozen=True)
class Person:
    """Who the set is about: which photos show the person, which someone else, whether to ask.

    `tie` is set when two groups are equally large (one photo against one, or two against two):
    then `person` is the group the set already had, or empty when there was none.
    """

    person: tuple[str, ...]
    set_aside: tuple[str, ...]
    tie: bool = False


@dataclass(frozen=True)
class PhotoReport:
    """The verdict on one photo, its findings worst first, key scores and a one-line summary.

    `face` is set for every good photo, also one rejected only as someone else's
    (`different_person`): the set keeps it aside, since the person may still turn out to be the
    one in it. `person` is who the set is about once this photo is added (None: not decided).
    """

    verdict: Verdict
    findings: tuple[Finding, ...]
    scores: dict[str, float] = field(default_factory=dict)
    face: FaceRecord | None = None
    summary: Words = Words("")
    person: Person | None = None

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
    hints: tuple[Words, ...]
    score: float
    set_aside: tuple[str, ...] = ()  # a line per photo of someone else, left out of the set


class QualityError(HeadshotsError):
    """A photo that cannot be analysed at all (unreadable, too large, wrong format)."""

    def __init__(self, code: str, message: Words) -> None:
        super().__init__(message.english())
        self.code = code
        self.message = message
