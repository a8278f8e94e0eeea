"""Checks across photos: near-duplicates and the same person, against the set so far."""

from __future__ import annotations

from collections.abc import Sequence

import imagehash
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from engine.quality.report import N_, FaceRecord, Finding, Verdict, words
from engine.quality.thresholds import Thresholds


def face_hash(aligned: NDArray[np.uint8]) -> str:
    """Return the perceptual hash (64-bit pHash, hex) of an aligned face crop."""
    return str(imagehash.phash(Image.fromarray(aligned)))


def hash_distance(first: str, second: str) -> int:
    """Return the number of differing bits between two face hashes."""
    return int(imagehash.hex_to_hash(first) - imagehash.hex_to_hash(second))


Descriptor = Sequence[float] | NDArray[np.float64]  # a record's list or a fresh array


def descriptor_distance(first: Descriptor, second: Descriptor) -> float:
    """Return the Euclidean distance between two dlib descriptors (same person: < ~0.5)."""
    return float(np.linalg.norm(np.asarray(first) - np.asarray(second)))


def duplicate_findings(
    label: str, hashed: str, prior: Sequence[FaceRecord], t: Thresholds
) -> list[Finding]:
    """Return a duplicate finding when the face hashed `hashed` is a near-copy of a `prior` one."""
    for other in prior:
        if other.label == label:
            continue
        distance = hash_distance(hashed, other.face_hash)
        if distance <= t.duplicate_hash_distance:
            message = words(
                N_(
                    "This looks almost the same as {other}. Send a different shot: another"
                    " angle, light or outfit."
                ),
                other=other.label,
            )
            return [Finding("duplicate", message, Verdict.REJECTED, float(distance))]
    return []


def duplicate_problems(faces: Sequence[FaceRecord], t: Thresholds) -> list[str]:
    """Return a line for each pair of near-identical face crops in the set."""
    problems = []
    for i, first in enumerate(faces):
        for second in faces[i + 1 :]:
            if hash_distance(first.face_hash, second.face_hash) <= t.duplicate_hash_distance:
                problems.append(f"{first.label} and {second.label} are nearly the same photo.")
    return problems
