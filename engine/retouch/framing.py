"""Headshot framing: eyes level on a line near the upper third, head and shoulders in frame."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.retouch.options import Aspect, RetouchOptions

Point = tuple[float, float]
Matrix = NDArray[np.float64]
ZOOM_LIMIT = 1.6  # how much larger than ideal the face may get when the photo is tight
TOUCH = 0.12  # share of a border covered by the person that counts as "cut off there"


@dataclass(frozen=True)
class FaceGeometry:
    """The few face points that framing needs, in source pixels."""

    left_eye: Point  # the eye on the image's left
    right_eye: Point
    chin: Point

    @property
    def eyes(self) -> Point:
        """Return the midpoint between the eyes."""
        return (
            (self.left_eye[0] + self.right_eye[0]) / 2,
            (self.left_eye[1] + self.right_eye[1]) / 2,
        )

    def roll_deg(self) -> float:
        """Return the head tilt: the angle of the eyes' line against the horizontal."""
        dx = self.right_eye[0] - self.left_eye[0]
        dy = self.right_eye[1] - self.left_eye[1]
        return math.degrees(math.atan2(dy, dx))

    def eye_chin(self) -> float:
        """Return the distance from the eyes' midpoint to the chin."""
        ex, ey = self.eyes
        return math.hypot(self.chin[0] - ex, self.chin[1] - ey)


@dataclass(frozen=True)
class Frame:
    """An affine map from source pixels to the output frame."""

    matrix: Matrix  # 2x3
    width: int
    height: int

    def apply(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Map (N, 2) source points into the frame."""
        return np.asarray(points @ self.matrix[:, :2].T + self.matrix[:, 2], dtype=np.float64)

    def scale(self) -> float:
        """Return how many output pixels one source pixel spans."""
        return math.sqrt(abs(float(np.linalg.det(self.matrix[:, :2]))))

    def scaled_source(self, factor: float) -> Frame:
        """Return the same frame for a source image resized by `factor`."""
        matrix = self.matrix.copy()
        matrix[:, :2] /= factor
        return Frame(matrix, self.width, self.height)


def cut_sides(mask: NDArray[np.float32]) -> dict[str, bool]:
    """Tell for each border whether the person runs into it (a mask in 0..1)."""
    person = mask > 0.5
    return {
        "left": bool(person[:, 0].mean() > TOUCH),
        "right": bool(person[:, -1].mean() > TOUCH),
        "top": bool(person[0, :].mean() > TOUCH),
        "bottom": bool(person[-1, :].mean() > TOUCH),
    }


def plan_frame(
    face: FaceGeometry,
    image_size: tuple[int, int],
    aspect: Aspect,
    options: RetouchOptions,
    cut: dict[str, bool],
) -> Frame:
    """Place the face in the frame, zooming in or shifting rather than inventing pixels."""
    iw, ih = image_size
    width, height = aspect.width, aspect.height
    ex, ey = face.eyes
    ideal = aspect.face_scale * width / max(face.eye_chin(), 1.0)
    allow = {
        side: 0.0
        if cut[side]
        else options.max_extension * (width if side in "leftright" else height)
        for side in cut
    }
    ty = aspect.eye_line * height
    needed = [
        (width / 2 - allow["left"]) / max(ex, 1.0),
        (width / 2 - allow["right"]) / max(iw - ex, 1.0),
        (ty - allow["top"]) / max(ey, 1.0),
        (height - ty - allow["bottom"]) / max(ih - ey, 1.0),
    ]
    k = min(max(ideal, *needed), ideal * ZOOM_LIMIT)
    cx = _place(width / 2, (ex * k, (iw - ex) * k), width, (allow["left"], allow["right"]))
    cy = _place(ty, (ey * k, (ih - ey) * k), height, (allow["top"], allow["bottom"]))
    angle = _level_angle(face.roll_deg(), options)
    matrix = cv2.getRotationMatrix2D((ex, ey), angle, k)
    matrix[0, 2] += cx - ex
    matrix[1, 2] += cy - ey
    return Frame(np.asarray(matrix, dtype=np.float64), width, height)


def _place(want: float, reach: tuple[float, float], size: int, allow: tuple[float, float]) -> float:
    # `reach`: how far the image extends before and after the anchor, in output pixels.
    lowest = size - allow[1] - reach[1]
    highest = allow[0] + reach[0]
    if lowest > highest:
        return (lowest + highest) / 2
    return min(max(want, lowest), highest)


def _level_angle(roll_deg: float, options: RetouchOptions) -> float:
    limit = options.max_level_deg
    return float(np.clip(roll_deg, -limit, limit)) * options.level_eyes


def warp(image: NDArray[Any], frame: Frame, *, border: float | None = None) -> NDArray[np.float32]:
    """Resample `image` into the frame; `border` fills outside (None: repeat the edge)."""
    scale = frame.scale()
    if scale < 0.8:
        # Shrink with area averaging first; an affine warp alone would alias fine detail.
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        frame = frame.scaled_source(small.shape[1] / image.shape[1])
        image = small
    mode = cv2.BORDER_REPLICATE if border is None else cv2.BORDER_CONSTANT
    out = cv2.warpAffine(
        image,
        frame.matrix,
        (frame.width, frame.height),
        flags=cv2.INTER_CUBIC,
        borderMode=mode,
        borderValue=(0.0 if border is None else border,) * 4,
    )
    return np.asarray(out, dtype=np.float32)
