"""Keep the generated images that look like the person: one clear face, closest identity first.

The person gets fewer images rather than images that do not look like them: a candidate whose
dlib descriptor is farther than `max_distance` from the selfies is dropped (REFERENCE.md: same
person 0.08-0.53, different people >= 0.65).
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image

from engine.faces import RGB, FaceAnalyzer, FaceBox
from engine.studio.preprocess import decode_selfie
from engine.studio.protocol import GeneratedImage

ANALYSIS_PX = 1024
Descriptor = tuple[float, ...]


@dataclass(frozen=True)
class SelectionRules:
    """What counts as one clear face of the right person."""

    max_distance: float = 0.55
    min_face_fraction: float = 0.12  # the face's box side over the image's short side
    noise_face_fraction: float = 0.05  # smaller detections are background, not a second face
    min_score: float = 0.75


def select_best(
    faces: FaceAnalyzer,
    candidates: Sequence[GeneratedImage],
    *,
    selfies: Sequence[bytes],
    keep_per_style: int,
    rules: SelectionRules = SelectionRules(),
) -> list[GeneratedImage]:
    """Return up to `keep_per_style` alike images per style, closest first, with their distance."""
    references = reference_descriptors(faces, selfies)
    scored = [scored for c in candidates if (scored := score(faces, c, references, rules))]
    kept: list[GeneratedImage] = []
    for style_id in dict.fromkeys(c.style_id for c in candidates):
        mine = [c for c in scored if c.style_id == style_id]
        kept += sorted(mine, key=lambda c: c.score or 0.0)[:keep_per_style]
    return kept


def score(
    faces: FaceAnalyzer,
    candidate: GeneratedImage,
    references: Sequence[Descriptor],
    rules: SelectionRules,
) -> GeneratedImage | None:
    """Return the candidate with its identity distance, or None if it fails the rules."""
    with Image.open(io.BytesIO(candidate.png)) as image:
        rgb = _analysis_copy(np.asarray(image.convert("RGB"), dtype=np.uint8))
    face = one_clear_face(faces.detect(rgb), rgb, rules)
    if face is None or not references:
        return None
    distance = identity_distance(faces.descriptor(rgb, face), references)
    if distance > rules.max_distance:
        return None
    return replace(candidate, score=round(distance, 4))


def one_clear_face(boxes: Sequence[FaceBox], rgb: RGB, rules: SelectionRules) -> FaceBox | None:
    """Return the only face that matters, or None for no face, a weak face or two faces."""
    short = min(rgb.shape[:2])
    counted = [b for b in boxes if b.side >= rules.noise_face_fraction * short]
    if len(counted) != 1:
        return None
    face = counted[0]
    big_enough = face.side >= rules.min_face_fraction * short
    inside = face.outside_fraction(rgb.shape[1], rgb.shape[0]) < 0.2
    return face if big_enough and inside and face.score >= rules.min_score else None


def reference_descriptors(faces: FaceAnalyzer, selfies: Sequence[bytes]) -> list[Descriptor]:
    """Return the descriptor of the largest face in each selfie that has one."""
    descriptors = []
    for data in selfies:
        rgb = decode_selfie(data, long_side=ANALYSIS_PX)
        boxes = faces.detect(rgb)
        if boxes:
            descriptors.append(faces.descriptor(rgb, boxes[0]))
    return descriptors


def identity_distance(descriptor: Descriptor, references: Sequence[Descriptor]) -> float:
    """Return the median Euclidean distance to the references (robust to one odd selfie)."""
    vector = np.asarray(descriptor)
    return statistics.median(float(np.linalg.norm(vector - np.asarray(r))) for r in references)


def _analysis_copy(rgb: RGB) -> RGB:
    scale = ANALYSIS_PX / max(rgb.shape[:2])
    if scale >= 1.0:
        return rgb
    size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def first_per_style(candidates: Sequence[GeneratedImage], keep: int) -> list[GeneratedImage]:
    """Keep the first `keep` candidates of each style (the tiny models draw no faces)."""
    kept: list[GeneratedImage] = []
    for style_id in dict.fromkeys(c.style_id for c in candidates):
        kept += [c for c in candidates if c.style_id == style_id][:keep]
    return kept
