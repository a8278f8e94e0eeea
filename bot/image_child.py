"""Runs inside the image pool's processes: calls `engine.quality` and `engine.retouch`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def warm_up() -> None:
    """Load the face models once, when the child starts."""
    from engine.quality import warm_up as load_models

    load_models()


def ping() -> bool:
    """Return True; used to start every child eagerly."""
    return True


def check(
    data: bytes, label: str, prior: Sequence[dict[str, Any]], max_bytes: int
) -> dict[str, Any]:
    """Check one photo against the set's faces (FaceRecord fields as dicts); return plain data."""
    from dataclasses import asdict, replace

    from engine.quality import DEFAULT_THRESHOLDS, check_photo

    thresholds = replace(DEFAULT_THRESHOLDS, max_bytes=max_bytes)
    report = check_photo(data, label, _faces(prior), thresholds=thresholds)
    return {
        "verdict": str(report.verdict),
        "summary": report.summary,
        "codes": [finding.code for finding in report.findings],
        "face": asdict(report.face) if report.face else None,
    }


def hints(faces: Sequence[dict[str, Any]], min_count: int, max_count: int) -> list[str]:
    """Return the set's variety hints (all frontal, same light, same outfit...)."""
    from engine.quality import summarize_set

    return list(summarize_set(_faces(faces), min_count=min_count, max_count=max_count).hints)


def _faces(raw: Sequence[dict[str, Any]]) -> list[Any]:
    from engine.quality import FaceRecord

    fields = ("descriptor", "pose", "light", "outfit")
    return [FaceRecord(**{**face, **{name: tuple(face.get(name, ())) for name in fields}})
            for face in raw]  # fmt: skip


def retouch(data: bytes, background: str, aspect: str, brand_colour: str) -> bytes:
    """Return the retouched headshot; the segmentation model loads on first use per process."""
    from engine.retouch import pool

    return pool.retouch(data, background, aspect, brand_colour)


def profile_kit(headshot: bytes, brand_colour: str) -> dict[str, bytes]:
    """Return the profile kit (avatar, signature picture, banner) made from one headshot."""
    from engine.retouch.profile import profile_kit as make_kit

    return make_kit(headshot, name="", title="", brand_colour=brand_colour)
