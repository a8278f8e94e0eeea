"""Skin: a mask from the face mesh that leaves eyes, brows and lips out; smoothing; sharpening."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

Float = NDArray[Any]  # cv2's stubs type every array loosely
Points = NDArray[np.float64]

# Face-mesh indices (mediapipe's 468-point topology).
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
             377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67,
             109)  # fmt: skip
LEFT_EYE = (362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384, 398)
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_BROW = (276, 283, 282, 295, 285, 300, 293, 334, 296, 336)
RIGHT_BROW = (46, 53, 52, 65, 55, 70, 63, 105, 66, 107)
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
NOSTRILS = (79, 166, 75, 60, 20, 242, 141, 94, 370, 462, 250, 290, 305, 392, 309, 459)
SKIN_CHROMA = 12.0  # Lab a/b spread of one face's skin (shade to highlight)
SKIN_LIGHT = 30.0  # Lab lightness spread: shadowed skin is still skin
KEEP_SHARP = (LEFT_EYE, RIGHT_EYE, LEFT_BROW, RIGHT_BROW, LIPS, NOSTRILS)


def skin_mask(points: Points, size: tuple[int, int], rgb: Float | None = None) -> Float:
    """Return a soft mask (0..1) of the face's skin at `size` (width, height).

    With the image, pixels far from the face's own skin colour (hair over the forehead, glasses
    frames) are left out too.
    """
    width, height = size
    mask: Float = np.zeros((height, width), dtype=np.uint8)
    face_w = float(np.ptp(points[list(FACE_OVAL), 0]))
    cv2.fillConvexPoly(mask, _hull(points, FACE_OVAL), (255,))
    grow = max(1, round(face_w * 0.03))
    holes: Float = np.zeros_like(mask)
    for part in KEEP_SHARP:
        cv2.fillConvexPoly(holes, _hull(points, part), (255,))
    holes = cv2.dilate(holes, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    mask = cv2.subtract(mask, holes)
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(1.0, face_w * 0.02))
    if rgb is not None:
        soft = soft * _skin_likeness(rgb, soft)
    return np.asarray(soft, dtype=np.float32)


def _skin_likeness(rgb: Float, mask: Float) -> Float:
    box = _box(mask)
    likeness = np.zeros(mask.shape, dtype=np.float32)
    if box is None:
        return likeness
    x0, y0, x1, y1 = box
    patch = np.clip(rgb[y0:y1, x0:x1], 0, 255).astype(np.float32) / 255.0
    lab = cv2.cvtColor(patch, cv2.COLOR_RGB2Lab)
    core = mask[y0:y1, x0:x1] > 0.9
    if core.sum() < 50:
        return likeness + 1.0
    ref = np.median(lab[core], axis=0)
    chroma = np.sum((lab[..., 1:] - ref[1:]) ** 2, axis=2) / (2 * SKIN_CHROMA**2)
    light = (lab[..., 0] - ref[0]) ** 2 / (2 * SKIN_LIGHT**2)
    likeness[y0:y1, x0:x1] = np.exp(-(chroma + light))
    return np.asarray(cv2.GaussianBlur(likeness, (0, 0), 1.5), dtype=np.float32)


def smooth_skin(rgb: Float, skin: Float, strength: float) -> Float:
    """Even out the skin by `strength` with an edge-preserving filter; the rest stays untouched."""
    box = _box(skin)
    if strength <= 0 or box is None:
        return rgb
    x0, y0, x1, y1 = box
    patch = rgb[y0:y1, x0:x1]
    radius = max(2, round((x1 - x0) / 45))
    smooth = cv2.ximgproc.guidedFilter(patch, patch, radius, 12.0**2)
    weight = (skin[y0:y1, x0:x1] * strength)[..., None]
    out = rgb.copy()
    out[y0:y1, x0:x1] = patch + weight * (smooth - patch)
    return out


def sharpen(rgb: Float, amount: float, skin: Float | None = None, upscale: float = 1.0) -> Float:
    """Apply an unsharp mask at the photo's own finest scale; skin gets half as much."""
    if amount <= 0:
        return rgb
    sigma = 0.8 * max(1.0, upscale)  # an enlarged photo's finest detail is `upscale` px wide
    blurred = cv2.GaussianBlur(rgb, (0, 0), sigma)
    weight = amount if skin is None else (amount * (1.0 - 0.5 * skin))[..., None]
    return np.asarray(np.clip(rgb + weight * (rgb - blurred), 0, 255), dtype=np.float32)


def _hull(points: Points, indices: tuple[int, ...]) -> NDArray[np.int32]:
    return np.asarray(cv2.convexHull(np.round(points[list(indices)]).astype(np.int32)), np.int32)


def _box(mask: Float) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask > 0.01)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
