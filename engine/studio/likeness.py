"""How much a face looks like the person, or like one selfie too much, and how varied a set is.

The one implementation behind the selection's ranking and near-copy floor and behind
`headshots evaluate`. Figures measured on the real photos of tests/photos.py (selfies: Grace
Hopper, a darker copy and a crop; dlib descriptors seeded with mediapipe's box, before issue 26;
pHash of the aligned 128 px face):

- copies of a selfie recompressed at JPEG q30 or rotated 10 degrees: descriptor 0.067-0.076 to
  the nearest selfie, aligned-face hash 0 bits;
- mirrored copies, also cropped, rotated 8 degrees, brightened, recompressed at q35 or with less
  contrast: descriptor 0.14-0.18, hash 28-30 bits (as far apart as two different people);
- astronaut and cameraman against her: descriptor 0.68-0.80, hash 26-32 bits.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np

from engine.faces import RGB, FaceAnalyzer, FaceBox, aligned_crop
from engine.quality.decode import decode, detail_pixels
from engine.quality.identity import descriptor_distance, face_hash, hash_distance
from engine.quality.measures import ALIGNED_PX, head_pose
from engine.quality.thresholds import DEFAULT_THRESHOLDS

Descriptor = tuple[float, ...]
ANALYSIS_PX = DEFAULT_THRESHOLDS.analysis_px  # long side faces are analysed at (the gate's)
# The gate's decoding; its size rules were met when the selfie was accepted.
_SELFIE_LIMITS = replace(DEFAULT_THRESHOLDS, min_side_px=1)

# evaluate's same-person cut-off to the selfies' centroid, calibrated on real people (see
# engine/quality/thresholds.py, `evaluate_same_person_distance`).
SAME_PERSON_DISTANCE = DEFAULT_THRESHOLDS.evaluate_same_person_distance
# A near-copy repeats one selfie: the gate's duplicate cut-off on the aligned-face hash (copies
# 0-4 bits, mirrored copies 28-32, different people 24-32) ...
NEAR_COPY_HASH_BITS = DEFAULT_THRESHOLDS.duplicate_hash_distance
# ... or a descriptor closer than any new shot: recompressed and rotated copies 0.067-0.076,
# mirrored copies (which stand in for another shot) from 0.14.
NEAR_COPY_DISTANCE = 0.10
# A set is samey when both spreads are low: one photo repeated with small crops, flips and
# rotations reads a pose spread of about 1 degree and a median pairwise descriptor distance of
# about 0.1 (see tests/test_likeness.py); the gate asks selfies for 10 degrees of yaw spread.
LOW_VARIETY_POSE_DEG = 5.0
LOW_VARIETY_DISTANCE = 0.2


@dataclass(frozen=True)
class FaceSignature:
    """What identifies one face: dlib descriptor, aligned-face hash and head pose (degrees)."""

    descriptor: Descriptor
    face_hash: str | None  # None when the mesh was not found, so no aligned crop exists
    yaw: float | None = None
    pitch: float | None = None
    roll: float | None = None


@dataclass(frozen=True)
class Person:
    """The selfies' faces, the reference every generated face is measured against."""

    faces: tuple[FaceSignature, ...]

    @property
    def centroid(self) -> Descriptor:
        """Return the mean descriptor of the selfies."""
        mean = np.mean([f.descriptor for f in self.faces], axis=0)
        return tuple(float(v) for v in mean)

    @property
    def descriptors(self) -> list[Descriptor]:
        """Return each selfie's descriptor, in order."""
        return [f.descriptor for f in self.faces]


@dataclass(frozen=True)
class Likeness:
    """A face against the person: distances, and the selfie it repeats if it is a near-copy."""

    to_centroid: float
    to_nearest: float
    hash_bits: int | None  # aligned-face hash distance to the nearest selfie
    copy_of: int | None  # index of the selfie it nearly copies, None if none

    @property
    def near_copy(self) -> bool:
        """Return True when the face repeats a selfie rather than being a new shot."""
        return self.copy_of is not None

    @property
    def same_person(self) -> bool:
        """Return True when the face is the person by the gate's same-person cut-off."""
        return self.to_centroid <= SAME_PERSON_DISTANCE


@dataclass(frozen=True)
class Variety:
    """How different the faces of a set are from each other; both spreads low means samey."""

    pose_spread_deg: float  # RMS distance of (yaw, pitch) from their mean
    pairwise_distance: float  # median descriptor distance between two faces of the set
    faces: int

    @property
    def low(self) -> bool:
        """Return True for a set of near-identical faces (fewer than two faces: not judged)."""
        samey_pose = self.pose_spread_deg < LOW_VARIETY_POSE_DEG
        return self.faces >= 2 and samey_pose and self.pairwise_distance < LOW_VARIETY_DISTANCE


def signature(
    faces: FaceAnalyzer, rgb: RGB, box: FaceBox, source: RGB | None = None
) -> FaceSignature:
    """Return the descriptor, aligned-face hash and pose of the face in `box`.

    `source` is the same photo larger, for the descriptor's chip (see FaceAnalyzer.descriptor).
    """
    marks = faces.landmarks(rgb, box)
    descriptor = faces.descriptor(rgb, box, marks, source)
    if marks is None:
        return FaceSignature(descriptor, None)
    pose = head_pose(marks)
    hashed = face_hash(aligned_crop(rgb, marks, ALIGNED_PX))
    return FaceSignature(descriptor, hashed, pose.yaw, pose.pitch, pose.roll)


def person_from_selfies(faces: FaceAnalyzer, selfies: Sequence[bytes]) -> Person:
    """Return the person from the largest face of each selfie that has one.

    Decoded and described exactly as the gate did when it accepted them (its analysis pixels,
    the chip of a small face from the file's pixels), so a selfie has one descriptor everywhere.
    """
    found = []
    for data in selfies:
        photo = decode(data, _SELFIE_LIMITS)
        boxes = faces.detect(photo.rgb)
        if boxes:
            detail = detail_pixels(photo, boxes[0].side, _SELFIE_LIMITS)
            found.append(signature(faces, photo.rgb, boxes[0], detail))
    return Person(tuple(found))


def likeness(face: FaceSignature, person: Person) -> Likeness:
    """Return how far `face` is from the person and whether it nearly copies one selfie."""
    distances = [descriptor_distance(face.descriptor, d) for d in person.descriptors]
    bits = [_bits(face.face_hash, s.face_hash) for s in person.faces]
    known = [b for b in bits if b is not None]
    nearest = min(range(len(distances)), key=distances.__getitem__)
    copies = [
        i
        for i, (d, b) in enumerate(zip(distances, bits, strict=True))
        if d < NEAR_COPY_DISTANCE or (b is not None and b <= NEAR_COPY_HASH_BITS)
    ]
    return Likeness(
        to_centroid=descriptor_distance(face.descriptor, person.centroid),
        to_nearest=distances[nearest],
        hash_bits=min(known) if known else None,
        copy_of=copies[0] if copies else None,
    )


def variety(faces: Sequence[FaceSignature]) -> Variety:
    """Return the spread of head pose and the median pairwise descriptor distance of a set."""
    poses = np.array([(f.yaw, f.pitch) for f in faces if f.yaw is not None], dtype=np.float64)
    spread = 0.0
    if len(poses) >= 2:
        spread = float(np.sqrt(((poses - poses.mean(axis=0)) ** 2).sum(axis=1).mean()))
    pairs = [descriptor_distance(a.descriptor, b.descriptor) for a, b in combinations(faces, 2)]
    pairwise = statistics.median(pairs) if pairs else 0.0
    return Variety(pose_spread_deg=spread, pairwise_distance=pairwise, faces=len(faces))


def _bits(first: str | None, second: str | None) -> int | None:
    return None if first is None or second is None else hash_distance(first, second)
