"""Who is in a photo: the faces of a first look, and a second look on tiles when it may miss some.

The full-range detector sees the whole photo at 192 px, so in a group photo the smaller faces
drop out: a first pass alone said "3 people" for 6, found one face of twelve in a wide row (and
the photo was accepted), and none in a 5x5 grid (which then read as a sideways photo). Tiles see
each face larger. They are looked at when the first pass found several faces, none, or a single
face small enough for others of its size to hide beside it; an ordinary selfie, one large face,
costs nothing more. When the two looks agree the count is said, otherwise only "several people".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engine.faces import FaceAnalyzer, FaceBox
from engine.quality.thresholds import Thresholds

TILE = 0.6  # tile side over the photo's short side; neighbouring tiles overlap by a fifth
MAX_TILE_ROW = 4  # at most this many tiles along the long side: wider photos get larger tiles


@dataclass(frozen=True)
class Count:
    """People in the photo, and whether two looks agreed on the number."""

    people: int
    sure: bool


@dataclass(frozen=True)
class Crowd:
    """The faces found, largest first, and how many of them count as people."""

    boxes: list[FaceBox]
    count: Count


def find_people(faces: FaceAnalyzer, rgb: NDArray[np.uint8], t: Thresholds) -> Crowd:
    """Return every face of the photo worth counting, and the count (see the module doc)."""
    first = [b for b in faces.detect(rgb) if b.score >= t.min_face_score]
    short = min(rgb.shape[:2])
    if len(first) == 1 and first[0].side >= t.crowd_look_below * short:
        return Crowd(first, Count(1, True))
    tiled = [b for b in _tiled(faces, rgb) if b.score >= t.min_face_score]
    found = sorted(_merge(first, tiled), key=lambda b: b.side, reverse=True)
    if not found:
        return Crowd([], Count(0, True))
    min_side = found[0].side * t.background_face_ratio
    people = [b for b in found if b.side >= min_side]
    seen_first = [b for b in first if b.side >= min_side]
    count = Count(max(len(people), len(seen_first)), len(people) == len(seen_first))
    return Crowd(found, count)


def _tiled(faces: FaceAnalyzer, rgb: NDArray[np.uint8]) -> list[FaceBox]:
    """Return the faces found on overlapping square tiles, in the photo's pixels."""
    height, width = rgb.shape[:2]
    short = min(height, width)
    side = min(short, max(int(short * TILE), _row_tile(height, width)))
    found = []
    for y0 in _starts(height, side):
        for x0 in _starts(width, side):
            tile = np.ascontiguousarray(rgb[y0 : y0 + side, x0 : x0 + side])
            found += [_shifted(b, x0, y0) for b in faces.detect(tile)]
    return found


def _row_tile(height: int, width: int) -> int:
    """Return the tile side that covers the long side in MAX_TILE_ROW overlapping tiles."""
    return math.ceil(max(height, width) / (1 + 0.8 * (MAX_TILE_ROW - 1)))


def _starts(length: int, side: int) -> list[int]:
    """Return tile offsets along one side: evenly spread, overlapping by at least a fifth."""
    if side >= length:
        return [0]
    steps = math.ceil((length - side) / (0.8 * side))
    return [round(i * (length - side) / steps) for i in range(steps + 1)]


def _shifted(box: FaceBox, dx: int, dy: int) -> FaceBox:
    points = tuple((x + dx, y + dy) for x, y in box.keypoints)
    return FaceBox(box.x + dx, box.y + dy, box.width, box.height, box.score, points)


def _merge(first: list[FaceBox], tiled: list[FaceBox]) -> list[FaceBox]:
    """Return the first pass's boxes and each face only the tiles found (one box per face).

    A first-pass box saw the whole face; a tile's may be a part cut off by the tile's edge.
    Boxes whose centres lie within half a side are the same face.
    """
    kept = list(first)
    for box in sorted(tiled, key=lambda b: b.score, reverse=True):
        if not any(_same_face(box, other) for other in kept):
            kept.append(box)
    return kept


def _same_face(first: FaceBox, second: FaceBox) -> bool:
    (x0, y0), (x1, y1) = first.center, second.center
    return float(np.hypot(x0 - x1, y0 - y1)) < 0.5 * max(first.side, second.side)
