"""The selfie quality gate: every photo checked on arrival, with a reason and a fix.

`check_photo(data, label, prior)` is a plain synchronous function with a picklable result, made
to run in a process pool whose initializer is `warm_up`. Models load once per process. Who the
set is about (`Person`: the largest group of alike faces) comes with each report and with the
set summary, decided in one place (`engine.quality.people`).

Names are imported on first use, so `engine.quality.cli` (and `headshots --help`, and the bot
process that registers it) stays free of OpenCV, mediapipe and dlib until a photo is checked.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.faces import FaceAnalyzer
    from engine.quality.gate import check_photo, warm_up
    from engine.quality.report import (
        FaceRecord,
        Finding,
        Person,
        PhotoReport,
        QualityError,
        SetReport,
        Verdict,
    )
    from engine.quality.summary import summarize_set
    from engine.quality.thresholds import DEFAULT_THRESHOLDS, Thresholds

REASON_CODES = (
    "unreadable",
    "unsupported_format",
    "too_large",
    "low_resolution",
    "no_face",
    "multiple_faces",
    "face_too_small",
    "face_cut_off",
    "blurry",
    "too_dark",
    "overexposed",
    "backlit",
    "head_turned",
    "eyes_closed",
    "eyes_hidden",
    "duplicate",
    "different_person",
)

_HOMES = {
    "FaceAnalyzer": "engine.faces",
    "check_photo": "engine.quality.gate",
    "warm_up": "engine.quality.gate",
    "FaceRecord": "engine.quality.report",
    "Finding": "engine.quality.report",
    "Person": "engine.quality.report",
    "PhotoReport": "engine.quality.report",
    "QualityError": "engine.quality.report",
    "SetReport": "engine.quality.report",
    "Verdict": "engine.quality.report",
    "summarize_set": "engine.quality.summary",
    "DEFAULT_THRESHOLDS": "engine.quality.thresholds",
    "Thresholds": "engine.quality.thresholds",
}

__all__ = [
    "DEFAULT_THRESHOLDS",
    "REASON_CODES",
    "FaceAnalyzer",
    "FaceRecord",
    "Finding",
    "Person",
    "PhotoReport",
    "QualityError",
    "SetReport",
    "Thresholds",
    "Verdict",
    "check_photo",
    "summarize_set",
    "warm_up",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
