"""A folder of photos judged as one set, with the same verdicts whatever the files' order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from engine.quality.gate import check_photo
from engine.quality.identity import duplicate_findings
from engine.quality.people import decide_person, person_finding
from engine.quality.report import FaceRecord, Finding, Person, PhotoReport
from engine.quality.thresholds import Thresholds
from engine.quality.verdicts import report_from


def check_together(photos: Sequence[tuple[str, bytes]], t: Thresholds) -> list[PhotoReport]:
    """Return a report per (label, file) pair: each photo alone, then the set's decisions."""
    alone = [check_photo(data, label, thresholds=t) for label, data in photos]
    return judge_together(alone, t)


def judge_together(reports: Sequence[PhotoReport], t: Thresholds) -> list[PhotoReport]:
    """Add the set's findings: near-copies of a better photo, and photos of someone else."""
    faces = [r.face for r in reports if r.face is not None]
    # Best first, then by name: which of two near-copies stays never depends on the order.
    ranked = sorted(faces, key=lambda face: (-face.quality, face.label))
    kept: list[FaceRecord] = []
    extra: dict[str, list[Finding]] = {}
    for face in ranked:
        copies = duplicate_findings(face.label, face.face_hash, kept, t)
        extra[face.label] = copies
        if not copies:
            kept.append(face)
    person = decide_person(kept, t)
    for face in kept:
        extra[face.label] = person_finding(face.label, person)
    return [_amended(report, extra, person) for report in reports]


def _amended(report: PhotoReport, extra: dict[str, list[Finding]], person: Person) -> PhotoReport:
    if report.face is None:
        return report
    findings = [*extra[report.face.label], *report.findings]
    return replace(report_from(findings, report.scores, report.face), person=person)
