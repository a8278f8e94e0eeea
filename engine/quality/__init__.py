"""The selfie quality gate: every photo checked on arrival, with a reason and a fix.

`check_photo(data, label, prior)` is a plain synchronous function with a picklable result, made
to run in a process pool whose initializer is `warm_up`. Models load once per process.
"""

from engine.faces import FaceAnalyzer
from engine.quality.gate import check_photo, warm_up
from engine.quality.report import (
    FaceRecord,
    Finding,
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

__all__ = [
    "DEFAULT_THRESHOLDS",
    "REASON_CODES",
    "FaceAnalyzer",
    "FaceRecord",
    "Finding",
    "PhotoReport",
    "QualityError",
    "SetReport",
    "Thresholds",
    "Verdict",
    "check_photo",
    "summarize_set",
    "warm_up",
]
