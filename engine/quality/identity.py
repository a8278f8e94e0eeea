"""Checks across photos: near-duplicates and the same person, against the set so far."""

from __future__ import annotations

from collections.abc import Sequence

import imagehash
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from engine.quality.report import FaceRecord, Finding, Verdict
from engine.quality.thresholds import Thresholds


def face_hash(aligned: NDArray[np.uint8]) -> str:
    """Return the perceptual hash (64-bit pHash, hex) of an aligned face crop."""
    return str(imagehash.phash(Image.fromarray(aligned)))


def hash_distance(first: str, second: str) -> int:
    """Return the number of differing bits between two face hashes."""
    return int(imagehash.hex_to_hash(first) - imagehash.hex_to_hash(second))


def descriptor_distance(first: Sequence[float], second: Sequence[float]) -> float:
    """Return the Euclidean distance between two dlib descriptors (same person: < ~0.5)."""
    return float(np.linalg.norm(np.asarray(first) - np.asarray(second)))


def prior_findings(face: FaceRecord, prior: Sequence[FaceRecord], t: Thresholds) -> list[Finding]:
    """Return duplicate and different-person findings of `face` against the accepted photos."""
    return [*_duplicate(face, prior, t), *_stranger(face, prior, t)]


def _duplicate(face: FaceRecord, prior: Sequence[FaceRecord], t: Thresholds) -> list[Finding]:
    for other in prior:
        distance = hash_distance(face.face_hash, other.face_hash)
        if distance <= t.duplicate_hash_distance:
            message = (
                f"This looks almost the same as {other.label}. "
                "Send a different shot: another angle, light or outfit."
            )
            return [Finding("duplicate", message, Verdict.REJECTED, float(distance))]
    return []


def _stranger(face: FaceRecord, prior: Sequence[FaceRecord], t: Thresholds) -> list[Finding]:
    distances = [(descriptor_distance(face.descriptor, p.descriptor), p) for p in prior]
    far = [(d, p) for d, p in distances if d > t.same_person_distance]
    # Compare with the majority, so one stranger already in the set cannot lock everyone out.
    if not far or len(far) * 2 <= len(distances):
        return []
    nearest, who = min(far, key=lambda pair: pair[0])
    others = f" and {len(far) - 1} more" if len(far) > 1 else ""
    message = (
        f"This looks like a different person than {who.label}{others}. "
        "Send only photos of the same person."
    )
    return [Finding("different_person", message, Verdict.REJECTED, nearest)]


def identity_problems(faces: Sequence[FaceRecord], t: Thresholds) -> list[str]:
    """Return a line for each photo whose face differs from most of the others."""
    if len(faces) < 2:
        return []
    if len(faces) == 2:
        first, second = faces
        if descriptor_distance(first.descriptor, second.descriptor) > t.same_person_distance:
            return [f"{first.label} and {second.label} look like different people."]
        return []
    problems = []
    for face in faces:
        others = [
            descriptor_distance(face.descriptor, o.descriptor) for o in faces if o is not face
        ]
        if float(np.median(others)) > t.same_person_distance:
            problems.append(f"{face.label} looks like a different person from the rest.")
    return problems


def duplicate_problems(faces: Sequence[FaceRecord], t: Thresholds) -> list[str]:
    """Return a line for each pair of near-identical face crops in the set."""
    problems = []
    for i, first in enumerate(faces):
        for second in faces[i + 1 :]:
            if hash_distance(first.face_hash, second.face_hash) <= t.duplicate_hash_distance:
                problems.append(f"{first.label} and {second.label} are nearly the same photo.")
    return problems
