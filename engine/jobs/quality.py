"""A pack's quality figures as the job record keeps them: likeness and near-copies per style.

The studio measures them while it selects (engine/studio/quality.py, on the same judgements the
ranking uses); the worker stores them with the record and feeds the metrics. A group where no face
was found says so with `faces_found == 0` and None figures, never with zeros that look measured.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

OVERALL = "overall"
NO_FACES = "no faces found"
NO_SELFIE_FACE = "no face in the selfies"


@dataclass(frozen=True)
class GroupQuality:
    """The figures of one style's candidates, or of the whole pack's (`name` == "overall")."""

    name: str
    images: int  # candidates judged
    faces_found: int  # candidates where a face was counted
    kept: int  # what the selection delivered
    same_person_share: float | None  # of `images`; None when no face was found
    median_distance: float | None  # identity distance to the selfies' centroid
    p90_distance: float | None
    near_copies: int  # faces that repeat one selfie (always rejected)

    def to_json(self) -> dict[str, Any]:
        """Return the figures as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> GroupQuality:
        """Rebuild from the JSON form."""
        return cls(**{name: raw[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class PackQuality:
    """The pack's figures overall and per style, and each judged face's identity distance."""

    overall: GroupQuality
    styles: tuple[GroupQuality, ...]
    distances: tuple[float, ...] = ()  # per face found, for the metrics' histogram
    note: str = ""  # why nothing was measured (NO_FACES, NO_SELFIE_FACE); "" when measured

    @property
    def measured(self) -> bool:
        """Return True when at least one face was measured against the person."""
        return not self.note

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form the job record keeps."""
        return {
            "overall": self.overall.to_json(),
            "styles": [s.to_json() for s in self.styles],
            "distances": list(self.distances),
            "note": self.note,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PackQuality:
        """Rebuild from the stored form."""
        return cls(
            overall=GroupQuality.from_json(raw["overall"]),
            styles=tuple(GroupQuality.from_json(s) for s in raw.get("styles", ())),
            distances=tuple(float(d) for d in raw.get("distances", ())),
            note=str(raw.get("note", "")),
        )
