"""From findings to a verdict, a quality score and the one line a person reads."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.faces import FaceAnalyzer
from engine.quality.checks import BACKLIT, SIDEWAYS, FaceMeasures
from engine.quality.report import N_, FaceRecord, Finding, PhotoReport, Verdict, Words, words
from engine.quality.thresholds import Thresholds


def report_from(
    findings: list[Finding], scores: dict[str, float], face: FaceRecord | None
) -> PhotoReport:
    """Return the report: rejections first, the verdict of the worst finding, and a summary."""
    ordered = sorted(findings, key=lambda f: f.severity is not Verdict.REJECTED)
    verdict = Verdict.ACCEPTED
    if ordered:
        verdict = ordered[0].severity
    # A good photo of someone else keeps its face: the set holds it aside, it may be the person.
    rejected = {f.code for f in ordered if f.severity is Verdict.REJECTED}
    kept = face if rejected <= {"different_person"} else None
    return PhotoReport(
        verdict=verdict,
        findings=tuple(ordered),
        scores=scores,
        face=kept,
        summary=_summary(verdict, ordered),
    )


GREAT = N_("Great photo: sharp, well lit, and your face is clear and facing the camera.")
COULD_BE_BETTER = N_("Accepted, but it could be better. {advice}")


def _summary(verdict: Verdict, findings: list[Finding]) -> Words:
    if verdict is Verdict.ACCEPTED:
        return words(GREAT)
    if verdict is Verdict.WARNING:
        return words(COULD_BE_BETTER, advice=findings[0].message)
    return findings[0].message


def unclear_face_finding() -> Finding:
    """Return the finding for a face that was detected but whose features could not be read."""
    message = N_("I can't see your face clearly. Send a sharp, well-lit photo facing the camera.")
    return Finding("no_face", words(message), Verdict.REJECTED, None)


def no_face_finding(rgb: NDArray[np.uint8], faces: FaceAnalyzer, t: Thresholds) -> Finding:
    """Explain why no face was found: sideways photo, far too dark or bright, or no face at all."""
    for turn in (1, 3):
        turned = np.ascontiguousarray(np.rot90(rgb, turn))
        if any(b.score >= t.min_face_score for b in faces.detect(turned)):
            return Finding("head_turned", words(SIDEWAYS), Verdict.REJECTED, 90.0)
    gray = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    if _silhouette(gray, t):
        return Finding("backlit", words(BACKLIT), Verdict.REJECTED, None)
    if float(gray.mean()) < t.no_face_dark:
        message = N_("The photo is too dark to see a face. Face a window or a lamp and try again.")
        return Finding("too_dark", words(message), Verdict.REJECTED, float(gray.mean()))
    if float((gray >= 250).mean()) > t.no_face_clipped:
        message = N_("The photo is washed out. Avoid direct sun and flash; soft daylight is best.")
        clipped = float((gray >= 250).mean())
        return Finding("overexposed", words(message), Verdict.REJECTED, clipped)
    message = N_(
        "I can't find a face. Send a photo of you, face clearly visible and facing the camera."
    )
    return Finding("no_face", words(message), Verdict.REJECTED, None)


def _silhouette(gray: NDArray[np.uint8], t: Thresholds) -> bool:
    """Return whether a dark middle stands against a bright, clipped surround (a window)."""
    height, width = gray.shape
    middle = gray[height // 4 : height * 3 // 4, width // 3 : width * 2 // 3]
    border = np.concatenate([gray[: height // 6].ravel(), gray[:, : width // 6].ravel(),
                             gray[:, -(width // 6) :].ravel()])  # fmt: skip
    bright = float(border.mean())
    return bright > t.no_face_bright_surround and float(middle.mean()) * 2.5 < bright


def quality_score(m: FaceMeasures, findings: list[Finding], t: Thresholds) -> float:
    """Return 0-1: how good a training photo this is (sharp, well lit, frontal, large face)."""
    sharp = _ramp(m.sharpness, t.min_sharpness, t.good_sharpness)
    light = 1.0 - min(abs(m.brightness - t.ideal_brightness) / t.ideal_brightness, 1.0)
    pose = 1.0 - min(max(abs(m.yaw) / t.max_yaw, abs(m.pitch) / t.max_pitch), 1.0)
    size = _ramp(m.face_px, t.min_face_px, t.good_face_px)
    score = 0.3 * sharp + 0.25 * light + 0.25 * pose + 0.2 * size
    warnings = sum(f.severity is Verdict.WARNING for f in findings)
    return round(max(score - 0.1 * warnings, 0.0), 3)


def _ramp(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / max(high - low, 1e-6), 0.0, 1.0))
