"""The gate: one photo's bytes in, a verdict with reasons, scores and its face record out."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from engine.faces import FaceAnalyzer, FaceBox, Landmarks, aligned_crop
from engine.quality import measures
from engine.quality.checks import FaceMeasures, photo_findings
from engine.quality.decode import Decoded, decode
from engine.quality.identity import face_hash, prior_findings
from engine.quality.report import FaceRecord, Finding, PhotoReport, QualityError, Verdict
from engine.quality.thresholds import DEFAULT_THRESHOLDS, Thresholds
from engine.quality.verdicts import (
    no_face_finding,
    quality_score,
    report_from,
    unclear_face_finding,
)

_analyzer: FaceAnalyzer | None = None
_analyzer_lock = threading.Lock()


def process_analyzer() -> FaceAnalyzer:
    """Return this process's face models, loading them on first use."""
    global _analyzer  # noqa: PLW0603 - one set of models per process, made on demand
    with _analyzer_lock:
        if _analyzer is None:
            _analyzer = FaceAnalyzer()
        return _analyzer


def warm_up() -> None:
    """Load this process's face models and run them once (a process pool's initializer).

    mediapipe and TFLite finish setting up on the first photo (about a second), so one real
    portrait, scikit-image's astronaut, goes through the whole gate here instead.
    """
    from pathlib import Path

    from skimage import data

    check_photo((Path(data.__file__).parent / "astronaut.png").read_bytes(), "warm-up")


def check_photo(
    data: bytes,
    label: str,
    prior: Sequence[FaceRecord] = (),
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    analyzer: FaceAnalyzer | None = None,
) -> PhotoReport:
    """Check one photo file, and its face against the set's already accepted `prior` faces."""
    faces = analyzer or process_analyzer()
    try:
        photo = decode(data, thresholds)
    except QualityError as exc:
        return report_from([Finding(exc.code, exc.message, Verdict.REJECTED)], {}, None)
    return _check_decoded(photo, label, prior, thresholds, faces)


def _check_decoded(
    photo: Decoded, label: str, prior: Sequence[FaceRecord], t: Thresholds, faces: FaceAnalyzer
) -> PhotoReport:
    rgb = photo.rgb
    scores = {"width": float(photo.original_size[0]), "height": float(photo.original_size[1])}
    boxes = [b for b in faces.detect(rgb) if b.score >= t.min_face_score]
    marks = faces.landmarks(rgb, boxes[0]) if boxes else None
    if not boxes:
        return report_from([no_face_finding(rgb, faces, t)], scores, None)
    if marks is None:
        return report_from([unclear_face_finding()], scores, None)
    aligned = aligned_crop(rgb, marks, measures.ALIGNED_PX)
    gray = measures.face_gray(aligned)
    measured = _measure(photo, boxes, marks, gray, t)
    scores |= measured.scores()
    findings = photo_findings(measured, t)
    if any(f.severity is Verdict.REJECTED for f in findings):
        return report_from(findings, scores, None)
    record = FaceRecord(
        label=label,
        descriptor=faces.descriptor(rgb, boxes[0]),
        face_hash=face_hash(aligned),
        quality=quality_score(measured, findings, t),
        pose=(round(measured.yaw, 1), round(measured.pitch, 1)),
        light=(round(measured.brightness / 255, 3), round(measures.light_balance(gray), 3)),
        outfit=measures.outfit_colour(rgb, boxes[0]),
    )
    findings += prior_findings(record, prior, t)
    scores["quality"] = record.quality
    return report_from(findings, scores, record)


def _measure(
    photo: Decoded,
    boxes: list[FaceBox],
    marks: Landmarks,
    gray: measures.Gray,
    t: Thresholds,
) -> FaceMeasures:
    rgb, main = photo.rgb, boxes[0]
    height, width = rgb.shape[:2]
    counted = [b for b in boxes if b.side >= main.side * t.background_face_ratio]
    pose = measures.head_pose(marks)
    bright, clipped = measures.brightness(gray)
    outside = max(main.outside_fraction(width, height), measures.mesh_outside(marks, width, height))
    return FaceMeasures(
        faces=len(counted),
        face_fraction=main.side / min(width, height),
        face_px=main.side * photo.scale,
        outside=outside,
        yaw=pose.yaw,
        pitch=pose.pitch,
        roll=pose.roll,
        sharpness=measures.sharpness(gray),
        brightness=bright,
        clipped=clipped,
        backlight=measures.background_brightness(rgb, main) / max(bright, 1.0),
        eye_openness=measures.eye_openness(marks),
        eye_visibility=measures.eye_visibility(rgb, marks),
    )
