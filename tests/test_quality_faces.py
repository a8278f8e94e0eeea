"""The shared face primitives on real photos: boxes, mesh, descriptors, aligned crops."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from engine.faces import FaceAnalyzer, aligned_crop
from tests import photos


def test_one_face_in_a_portrait_none_in_the_cat(analyzer: FaceAnalyzer) -> None:
    boxes = analyzer.detect(photos.as_array(photos.astronaut()))
    assert len(boxes) == 1
    box = boxes[0]
    assert 150 < box.center[0] < 300 and 80 < box.center[1] < 160
    assert len(box.keypoints) == 6 and box.score > 0.8
    assert analyzer.detect(photos.as_array(photos.chelsea())) == []


def test_mesh_is_in_full_image_pixels(analyzer: FaceAnalyzer) -> None:
    rgb = photos.as_array(photos.grace_hopper())
    box = analyzer.detect(rgb)[0]
    marks = analyzer.landmarks(rgb, box)
    assert marks is not None and marks.points.shape == (478, 3)
    right, left = marks.right_eye, marks.left_eye
    assert right[0] < left[0]  # the subject's right eye is on the image's left
    for eye, keypoint in ((right, box.keypoints[0]), (left, box.keypoints[1])):
        assert np.hypot(eye[0] - keypoint[0], eye[1] - keypoint[1]) < box.width * 0.1
    assert analyzer.mesh(rgb) is not None


def test_descriptors_tell_people_apart(analyzer: FaceAnalyzer) -> None:
    def describe(rgb: NDArray[np.uint8]) -> NDArray[np.float64]:
        return np.array(analyzer.descriptor(rgb, analyzer.detect(rgb)[0]))

    astronaut = photos.as_array(photos.astronaut())
    darker = (astronaut * 0.6).astype(np.uint8)
    hopper = photos.as_array(photos.grace_hopper())
    a, b, c = describe(astronaut), describe(darker), describe(hopper)
    assert a.shape == (128,)
    assert np.linalg.norm(a - b) < 0.5 < np.linalg.norm(a - c)


def test_aligned_crop_levels_the_eyes(analyzer: FaceAnalyzer) -> None:
    rgb = np.ascontiguousarray(np.asarray(photos.astronaut().rotate(15, expand=True)))
    marks = analyzer.landmarks(rgb, analyzer.detect(rgb)[0])
    assert marks is not None
    crop = aligned_crop(rgb, marks, 128)
    assert crop.shape == (128, 128, 3)
    again = analyzer.landmarks(crop, analyzer.detect(crop)[0])
    assert again is not None
    (rx, ry), (lx, ly) = again.right_eye, again.left_eye
    assert abs(ry - ly) < 3 and abs((lx - rx) - 0.3 * 128) < 6
