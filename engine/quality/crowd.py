"""How many people are in a photo: the detector once more on overlapping tiles, to be sure.

The full-range detector sees the whole photo at 192 px, so in a group photo the smaller faces
drop out and a count of the first pass alone can be wrong ("3 people" for 6). Tiles see each
face larger; when both passes agree the count is said, otherwise only "several people".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engine.faces import FaceAnalyzer, FaceBox

TILE = 0.6  # tile side over the photo's side; two tiles per axis overlap by a fifth


@dataclass(frozen=True)
class Count:
    """People in the photo, and whether two looks agreed on the number."""

    people: int
    sure: bool


def count_people(
    faces: FaceAnalyzer, rgb: NDArray[np.uint8], boxes: list[FaceBox], min_side: float
) -> Count:
    """Return how many faces of at least `min_side` px the photo holds (boxes: first pass)."""
    first = [b for b in boxes if b.side >= min_side]
    if len(first) <= 1:
        return Count(len(first), True)
    found = _merge([*first, *_tiled(faces, rgb, min_side / 2)])
    people = [b for b in found if b.side >= min_side]
    return Count(max(len(people), len(first)), len(people) == len(first))


def _tiled(faces: FaceAnalyzer, rgb: NDArray[np.uint8], min_side: float) -> list[FaceBox]:
    height, width = rgb.shape[:2]
    tile_h, tile_w = int(height * TILE), int(width * TILE)
    found = []
    for y0 in (0, height - tile_h):
        for x0 in (0, width - tile_w):
            tile = np.ascontiguousarray(rgb[y0 : y0 + tile_h, x0 : x0 + tile_w])
            found += [_shifted(b, x0, y0) for b in faces.detect(tile) if b.side >= min_side]
    return found


def _shifted(box: FaceBox, dx: int, dy: int) -> FaceBox:
    points = tuple((x + dx, y + dy) for x, y in box.keypoints)
    return FaceBox(box.x + dx, box.y + dy, box.width, box.height, box.score, points)


def _merge(boxes: list[FaceBox]) -> list[FaceBox]:
    """Return one box per face: boxes whose centres lie within half a side are the same face."""
    kept: list[FaceBox] = []
    for box in sorted(boxes, key=lambda b: b.score, reverse=True):
        if not any(_same_face(box, other) for other in kept):
            kept.append(box)
    return kept


def _same_face(first: FaceBox, second: FaceBox) -> bool:
    (x0, y0), (x1, y1) = first.center, second.center
    return float(np.hypot(x0 - x1, y0 - y1)) < 0.5 * max(first.side, second.side)
