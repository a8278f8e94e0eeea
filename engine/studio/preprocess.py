"""Training crops from accepted selfies: eyes level, head and shoulders framed the same way.

Faces are found and meshed on a copy at most ANALYSIS_PX on its long side (REFERENCE.md: downscale
before analysis); the crop itself is cut from the decoded photo at the training resolution.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from core.errors import HeadshotsError
from engine.faces import RGB, FaceAnalyzer, Landmarks
from engine.jobs.contract import CodedError, FailureCode
from engine.quality.decode import decode
from engine.quality.thresholds import DEFAULT_THRESHOLDS

ANALYSIS_PX = 1024
BACKDROP_RGB = (128, 128, 128)


class NoUsableFaceError(HeadshotsError, CodedError):
    """None of the selfies has a face the studio can frame."""

    failure_code = FailureCode.NO_FACE  # the person is told this instead of a generic failure


@dataclass(frozen=True)
class Framing:
    """Where the eyes sit in a crop, as fractions of its side: head and shoulders by default."""

    eye_gap: float = 0.17
    eye_line: float = 0.40


def training_crops(
    faces: FaceAnalyzer,
    selfies: Sequence[bytes],
    *,
    size: int,
    framing: Framing = Framing(),
    segmenter: Any | None = None,
) -> list[Image.Image]:
    """Return one framed square crop per selfie with a face; a segmenter greys the background."""
    framed = training_crops_with_sources(faces, selfies, size=size, framing=framing)
    if segmenter is None:
        return [crop for _, crop in framed]
    return [Image.fromarray(simplify_background(segmenter, np.asarray(c))) for _, c in framed]


def training_crops_with_sources(
    faces: FaceAnalyzer, selfies: Sequence[bytes], *, size: int, framing: Framing = Framing()
) -> list[tuple[int, Image.Image]]:
    """Return (selfie index, framed square crop) for every selfie with a face."""
    crops = []
    for index, data in enumerate(selfies):
        rgb = decode_selfie(data, long_side=max(2048, 2 * size))
        landmarks = find_landmarks(faces, rgb)
        if landmarks is not None:
            crops.append((index, Image.fromarray(frame_face(rgb, landmarks, size, framing))))
    if not crops:
        raise NoUsableFaceError("no selfie has a face the studio can frame")
    return crops


def decode_selfie(data: bytes, long_side: int) -> RGB:
    """Decode a selfie upright with the quality gate's decoder, its long side at most this."""
    # The gate already accepted the selfie; only its safe decoding is wanted here, not its rules.
    limits = replace(DEFAULT_THRESHOLDS, analysis_px=long_side, draft_px=long_side, min_side_px=1)
    return decode(data, limits).rgb


def find_landmarks(faces: FaceAnalyzer, rgb: RGB) -> Landmarks | None:
    """Return the mesh of the largest face in full-size pixels, found on a reduced copy."""
    scale = min(1.0, ANALYSIS_PX / max(rgb.shape[:2]))
    small = rgb
    if scale < 1.0:
        size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
        small = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    boxes = faces.detect(small)
    marks = faces.landmarks(small, boxes[0]) if boxes else None
    if marks is None:
        return None
    return Landmarks(points=(marks.points / np.float32(scale)).astype(np.float32))


def frame_face(rgb: RGB, landmarks: Landmarks, size: int, framing: Framing) -> RGB:
    """Return a size x size crop, eyes level, centred, at the framing's eye gap and eye line."""
    right, left = np.array(landmarks.right_eye), np.array(landmarks.left_eye)
    middle = (right + left) / 2
    gap = max(float(np.hypot(*(left - right))), 1e-6)
    scale = framing.eye_gap * size / gap
    angle = float(np.arctan2(left[1] - right[1], left[0] - right[0]))
    cos, sin = scale * np.cos(-angle), scale * np.sin(-angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    shift = np.array([size / 2, framing.eye_line * size]) - rotation @ middle
    matrix = np.hstack([rotation, shift[:, None]])
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    crop = cv2.warpAffine(rgb, matrix, (size, size), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(crop, dtype=np.uint8)


def simplify_background(segmenter: Any, rgb: RGB) -> RGB:
    """Replace the background with flat grey, feathered along the person's outline."""
    mask = np.asarray(segmenter.process(np.ascontiguousarray(rgb)).segmentation_mask)
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), max(1.0, rgb.shape[0] / 256))
    alpha = np.clip(alpha, 0.0, 1.0)[..., None]
    backdrop = np.array(BACKDROP_RGB, dtype=np.float32)
    blended: NDArray[np.float32] = rgb.astype(np.float32) * alpha + backdrop * (1.0 - alpha)
    return np.asarray(np.clip(blended, 0, 255).round(), dtype=np.uint8)


def to_png(image: Image.Image) -> bytes:
    """Return the image as PNG bytes."""
    # The person's own selfie, cropped for training: not generated, so no AI mark.
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
