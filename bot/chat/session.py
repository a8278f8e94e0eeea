"""One person's conversation state, stored as a JSON document in the state store."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any, Self

from engine.quality.report import FaceRecord, Verdict


class Stage(StrEnum):
    """Where the person is in the journey."""

    SUBJECT = "subject"  # consented; choosing man / woman / person
    CAPTURE = "capture"  # sending selfies
    STYLES = "styles"  # picking style packs
    PACK_SIZE = "pack_size"  # picking how many images per style
    TIER = "tier"  # picking express, studio, or express now and studio after
    CONFIRM = "confirm"  # looking at the summary, about to confirm
    RUNNING = "running"  # a pack job is queued or running
    DONE = "done"  # the pack was delivered, failed or was cancelled


class TierChoice(StrEnum):
    """Which pack the person ordered; the upgrade is two jobs, express first, studio after."""

    EXPRESS = "express"
    STUDIO = "studio"
    UPGRADE = "upgrade"


@dataclass(frozen=True)
class Selfie:
    """An accepted selfie: where its bytes are and what the gate learned about its face."""

    label: str  # "photo 3": the number the person saw in the verdict
    blob_key: str
    file_id: str
    verdict: Verdict  # ACCEPTED or WARNING
    face: FaceRecord  # what the gate measured: descriptor, hash, quality, pose, light, outfit

    @property
    def quality(self) -> float:
        """Return the gate's 0-1 score, used to pick the best selfie."""
        return self.face.quality

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Self:
        """Rebuild from the stored JSON form, ignoring fields this version does not know."""
        known = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
        face = FaceRecord.from_json(raw.get("face") or {"label": ""})
        return cls(
            **{**known, "verdict": Verdict(raw.get("verdict", Verdict.ACCEPTED)), "face": face}
        )


@dataclass(frozen=True)
class Session:
    """Everything the core needs to answer the next event; immutable, replaced on change."""

    stage: Stage = Stage.SUBJECT
    subject: str = ""
    received: int = 0  # photos received, good or bad; numbers the labels
    selfies: tuple[Selfie, ...] = ()  # the person's photos: what the pack trains on
    # Good photos that look like someone else. Kept, not dropped: when more photos of that face
    # arrive they may turn out to be the person, and the set's photos then go aside instead.
    set_aside: tuple[Selfie, ...] = ()
    styles: tuple[str, ...] = ()
    pack_size: int = 0
    tier: TierChoice = TierChoice.STUDIO
    upgrade_pending: bool = False  # an upgrade whose studio pack is not queued yet
    request_id: str = ""  # set when the confirmation is shown; makes a double tap enqueue once
    job_id: str = ""
    language: str = "en"  # the catalog the person is answered in (bot.text.i18n.pick_language)
    chosen_language: str = ""  # picked with /language: wins over the platform's language code
    pending: str = ""  # a destructive command waiting for "yes": "cancel" or "delete"
    updated_at: float = 0.0  # unix time of the last save; the retention sweep reads it

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Self:
        """Rebuild from the JSON form, tolerating fields added by newer versions."""
        known = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
        selfies = tuple(Selfie.from_dict(item) for item in known.pop("selfies", []))
        aside = tuple(Selfie.from_dict(item) for item in known.pop("set_aside", []))
        return cls(
            **{
                **known,
                "stage": Stage(known.get("stage", Stage.SUBJECT)),
                "tier": TierChoice(known.get("tier", TierChoice.STUDIO)),
                "selfies": selfies,
                "set_aside": aside,
                "styles": tuple(known.get("styles", ())),
            }
        )

    def with_(self, **changes: Any) -> Session:
        """Return a copy with `changes` applied."""
        return replace(self, **changes)
