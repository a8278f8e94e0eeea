"""The gate: one photo's bytes in, a verdict with reasons, scores and its face record out."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace

from engine.faces import FaceAnalyzer, FaceBox, Landmarks, aligned_crop
from engine.quality import measures
from engine.quality.checks import FaceMeasures, photo_findings
from engine.quality.crowd import Count, find_people
from engine.quality.decode import Decoded, decode, detail_pixels
from engine.quality.identity import duplicate_findings, face_hash, hash_distance
from engine.quality.people import decide_person, person_finding
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
    counted: Sequence[str] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    analyzer: FaceAnalyzer | None = None,
) -> PhotoReport:
    """Check one photo file, and its face against the set's `prior` faces.

    `prior` holds every good face of the set, those set aside as someone else's included;
    `counted` names those that count as the person now (all of `prior` when None), which keeps
    the set as it is when this photo makes a tie. A set-aside face this photo nearly copies is
    left out of the decision: it is in neither of the report's `person` lists.
    """
    faces = analyzer or process_analyzer()
    try:
        photo = decode(data, thresholds)
    except QualityError as exc:
        return report_from([Finding(exc.code, exc.message, Verdict.REJECTED)], {}, None)
    keep = [face.label for face in prior] if counted is None else counted
    # Only the person's photos can be copied: a near-copy of a set-aside photo (the same shot
    # sent again, as a file or a crop) is judged on its own and replaces it, never refused as
    # a copy of a photo that counts for nothing.
    report = _check_decoded(photo, label, [f for f in prior if f.label in keep], thresholds, faces)
    if report.face is None or report.verdict is Verdict.REJECTED:
        return report
    others = [f for f in prior if f.label in keep or not _copies(report.face, f, thresholds)]
    return _with_person(report, [*others, report.face], keep, thresholds)


def _copies(face: FaceRecord, other: FaceRecord, t: Thresholds) -> bool:
    """Return True when `face` is a near-copy of `other` (the duplicate check's hash cut)."""
    return hash_distance(face.face_hash, other.face_hash) <= t.duplicate_hash_distance


def _with_person(
    report: PhotoReport, faces: Sequence[FaceRecord], keep: Sequence[str], t: Thresholds
) -> PhotoReport:
    """Return the report with who the set is about, and a finding when it is someone else."""
    assert report.face is not None
    person = decide_person(faces, t, keep)
    findings = [*person_finding(report.face.label, person), *report.findings]
    return replace(report_from(findings, report.scores, report.face), person=person)


def _check_decoded(
    photo: Decoded, label: str, prior: Sequence[FaceRecord], t: Thresholds, faces: FaceAnalyzer
) -> PhotoReport:
    rgb = photo.rgb
    scores = {"width": float(photo.original_size[0]), "height": float(photo.original_size[1])}
    crowd = find_people(faces, rgb, t)
    boxes = crowd.boxes
    marks = faces.landmarks(rgb, boxes[0]) if boxes else None
    if not boxes:
        return report_from([no_face_finding(rgb, faces, t)], scores, None)
    if marks is None:
        return report_from([unclear_face_finding()], scores, None)
    aligned = aligned_crop(rgb, marks, measures.ALIGNED_PX)
    gray = measures.face_gray(aligned)
    measured = _measure(photo, boxes, marks, gray, t, crowd=crowd.count)
    scores |= measured.scores()
    findings = photo_findings(measured, t)
    hashed = face_hash(aligned)
    findings += duplicate_findings(label, hashed, prior, t)
    # The descriptor is the gate's largest stage (~20 ms of ~50): only good photos pay it.
    if any(f.severity is Verdict.REJECTED for f in findings):
        return report_from(findings, scores, None)
    record = FaceRecord(
        label=label,
        descriptor=faces.descriptor(rgb, boxes[0], marks, detail_pixels(photo, boxes[0].side, t)),
        face_hash=hashed,
        quality=quality_score(measured, findings, t),
        pose=(round(measured.yaw, 1), round(measured.pitch, 1)),
        light=(round(measured.brightness / 255, 3), round(measures.light_balance(gray), 3)),
        outfit=measures.outfit_colour(rgb, boxes[0]),
    )
    scores["quality"] = record.quality
    return report_from(findings, scores, record)


def _measure(
    photo: Decoded,
    boxes: list[FaceBox],
    marks: Landmarks,
    gray: measures.Gray,
    t: Thresholds,
    *,
    crowd: Count,
) -> FaceMeasures:
    rgb, main = photo.rgb, boxes[0]
    height, width = rgb.shape[:2]
    pose = measures.head_pose(marks)
    bright, clipped = measures.brightness(gray)
    whole = measures.photo_gray(rgb)
    outside = max(main.outside_fraction(width, height), measures.mesh_outside(marks, width, height))
    return FaceMeasures(
        faces=crowd.people,
        faces_sure=crowd.sure,
        face_fraction=main.side / min(width, height),
        face_px=main.side * photo.scale,
        outside=outside,
        yaw=pose.yaw,
        pitch=pose.pitch,
        roll=pose.roll,
        sharpness=measures.sharpness(gray),
        brightness=bright,
        clipped=clipped,
        backlight=measures.background_brightness(whole, main) / max(bright, 1.0),
        eye_openness=measures.eye_openness(marks),
        eye_visibility=measures.eye_visibility(whole, marks),
    )
