"""Where dlib's 5-point predictor looks: a box placed from the face's own landmarks.

dlib's predictor (eye corners and the base of the nose) was trained on boxes from its HOG
detector, and it only refines points near where such a box puts them. Seeding it with mediapipe's
detector box put the eye points on the cheeks whenever that box sat off the face (a full-length
photo: 50 px low), and the descriptor was someone else's (issue 26). The box here comes from the
mesh's eye corners and nose base instead, so it follows the face, not the detector, at any scale.

The placement was fitted (least squares, outliers over 3 sd dropped twice) to dlib's HOG boxes on
175 faces of the public sets bench/faces/fetch.sh downloads, in the face's own frame: x along the
eye line (to the image's right), y down from it, both in eye gaps `g` and eye-to-nose heights
`h`. The residual spread, in box sides: 0.033 along, 0.042 down, 0.12 in size (HOG's own scale
steps are 1.2x apart). bench/alignment.py measures the resulting descriptors against dlib's
own pipeline.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Mesh indices of dlib's five points, in dlib's order: the eye on the image's right (outer,
# inner corner), the eye on the image's left (outer, inner), the base of the nose.
MESH_FIVE = (263, 362, 33, 133, 2)
ALONG = (0.062, -0.086)  # box centre along the eye line from the eyes' midpoint: per g, per h
DOWN = (0.345, 0.24)  # box centre below the eye line: per g, per h
SIDE = (1.51, 1.361)  # box side: per g, per h


def seed_box(five: NDArray[np.float32]) -> tuple[float, float, float, float]:
    """Return dlib's box (left, top, right, bottom) for five points in dlib's order."""
    points = np.asarray(five, dtype=np.float64)
    right_eye, left_eye, nose = points[0:2].mean(0), points[2:4].mean(0), points[4]
    middle = (right_eye + left_eye) / 2
    gap = max(float(np.hypot(*(right_eye - left_eye))), 1e-6)
    along = (right_eye - left_eye) / gap  # to the image's right
    down = np.array([-along[1], along[0]])
    height = abs(float((nose - middle) @ down))
    sizes = np.array([gap, height])
    centre = middle + float(sizes @ ALONG) * along + float(sizes @ DOWN) * down
    half = float(sizes @ SIDE) / 2
    return (centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half)
