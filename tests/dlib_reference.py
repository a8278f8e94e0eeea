"""dlib's own face pipeline, the reference the project's alignment is held to, and gaps from it.

The reference is dlib alone: its HOG detector on the file's upright pixels, its 5-point predictor
on that box and `compute_face_descriptor` (its chip, its network). The project's path is the
gate's: the analysis pixels, mediapipe's face and mesh, the five points seeded from the mesh and
the chip cut from the file's pixels for a small face. A gap is the descriptor distance between the
two paths on one photo file; dlib's own noise, for scale, is how far its descriptor moves when the
same photo is only resized to 0.8x.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from engine.quality.identity import descriptor_distance
from tests.real_faces import analysis_pixels, upright

Vector = NDArray[np.float64]
NOISE_RESIZE = 0.8  # dlib's own noise: the photo against itself at this size


class DlibReference:
    """dlib's own pipeline: its HOG detector on the whole photo, its predictor, its descriptor."""

    def __init__(self) -> None:
        import dlib

        from engine.faces import dlib_models_dir

        models = dlib_models_dir()
        self._detector = dlib.get_frontal_face_detector()
        self._shapes = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._net = dlib.face_recognition_model_v1(
            str(models / "dlib_face_recognition_resnet_model_v1.dat")
        )

    def descriptor(self, rgb: NDArray[np.uint8], near: tuple[float, float]) -> Vector | None:
        """Return the descriptor of the HOG face nearest `near` (a point in pixels), or None."""
        for upsample in (0, 1):
            found = list(self._detector(rgb, upsample))
            if found:
                rect = min(found, key=lambda r: _gap(r, near))
                shape = self._shapes(rgb, rect)
                return np.asarray(self._net.compute_face_descriptor(rgb, shape), np.float64)
        return None

    def resize_noise(
        self, rgb: NDArray[np.uint8], near: tuple[float, float], own: Vector
    ) -> float | None:
        """Return how far `own`, dlib's descriptor of the face near `near`, moves at 0.8x."""
        image = Image.fromarray(rgb)
        size = (round(image.width * NOISE_RESIZE), round(image.height * NOISE_RESIZE))
        small = np.ascontiguousarray(np.asarray(image.resize(size), dtype=np.uint8))
        moved = self.descriptor(small, (near[0] * NOISE_RESIZE, near[1] * NOISE_RESIZE))
        return None if moved is None else descriptor_distance(own, moved)


def _gap(rect: Any, point: tuple[float, float]) -> float:
    centre = rect.center()
    return float(np.hypot(centre.x - point[0], centre.y - point[1]))


@dataclass(frozen=True)
class Gaps:
    """One photo's descriptor distances from dlib's own pipeline, the old and the new path."""

    face_px: float  # the face's side in the file's pixels
    turned: bool  # past the gate's yaw or pitch limit: the gate sets it aside, no descriptor
    old: float  # five points seeded from mediapipe's box, on the analysis pixels (before #26)
    new: float  # the gate's path: seeded from the mesh, the chip cut from the detail pixels
    noise: float | None = None  # dlib's own, this photo against itself at 0.8x (when asked)

    @property
    def gated(self) -> bool:
        """Return True for a face the gate makes a descriptor of (90 px and up, not turned)."""
        from engine.quality.thresholds import DEFAULT_THRESHOLDS

        return not self.turned and self.face_px >= DEFAULT_THRESHOLDS.min_face_px


def alignment_gaps(
    faces: Any, reference: DlibReference, data: bytes, noise: bool = False
) -> Gaps | None:
    """Return the photo's gaps from dlib's pipeline, or None without a face or a reference.

    With `noise`, dlib's own resize noise on the same photo comes too.
    """
    from engine.faces import detector_seed_box
    from engine.quality.measures import head_pose
    from engine.quality.thresholds import DEFAULT_THRESHOLDS as T

    pixels = analysis_pixels(data)
    boxes = faces.detect(pixels.rgb)
    marks = faces.landmarks(pixels.rgb, boxes[0]) if boxes else None
    if marks is None:
        return None
    box, scale, full = boxes[0], pixels.scale, upright(data)
    near = (box.center[0] * scale, box.center[1] * scale)
    theirs = reference.descriptor(full, near)
    if theirs is None:
        return None
    rect = faces.rectangle(detector_seed_box(box))
    old = faces.descriptor_of(pixels.rgb, faces.predicted_points(pixels.rgb, rect))
    new = faces.descriptor(pixels.rgb, box, marks, pixels.detail(box.side))
    pose = head_pose(marks)
    turned = abs(pose.yaw) > T.max_yaw or abs(pose.pitch) > T.max_pitch
    moved = reference.resize_noise(full, near, theirs) if noise else None
    gaps = descriptor_distance(old, theirs), descriptor_distance(new, theirs)
    return Gaps(box.side * scale, turned, *gaps, moved)
