"""Runs inside the image pool's processes: calls `engine.quality` and `engine.retouch`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

FaceTuple = tuple[str, tuple[float, ...], str, float]


def warm_up() -> None:
    """Load the face models once, when the child starts."""
    from engine.quality import warm_up as load_models

    load_models()


def ping() -> bool:
    """Return True; used to start every child eagerly."""
    return True


def check(data: bytes, label: str, prior: Sequence[FaceTuple], max_bytes: int) -> dict[str, Any]:
    """Check one photo and return the report as a plain dict."""
    from dataclasses import replace

    from engine.quality import DEFAULT_THRESHOLDS, FaceRecord, check_photo

    faces = [
        FaceRecord(label=name, descriptor=desc, face_hash=fhash, quality=score)
        for name, desc, fhash, score in prior
    ]
    thresholds = replace(DEFAULT_THRESHOLDS, max_bytes=max_bytes)
    report = check_photo(data, label, faces, thresholds=thresholds)
    face = report.face
    return {
        "verdict": str(report.verdict),
        "summary": report.summary,
        "codes": [finding.code for finding in report.findings],
        "quality": face.quality if face else 0.0,
        "descriptor": list(face.descriptor) if face else [],
        "face_hash": face.face_hash if face else "",
    }


def retouch(data: bytes, background: str, aspect: str, brand_colour: str) -> bytes:
    """Return the retouched headshot; the segmentation model loads on first use per process."""
    from engine.retouch import worker

    return worker.retouch(data, background, aspect, brand_colour)
