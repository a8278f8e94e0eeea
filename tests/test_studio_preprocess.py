"""Training crops from real photos: centred on the face, the same framing across photos."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from engine.faces import FaceAnalyzer
from engine.jobs import FailureCode
from engine.studio.preprocess import Framing, NoUsableFaceError, find_landmarks, training_crops
from tests import photos

SIZE = 256


@pytest.fixture(scope="module")
def faces() -> Iterator[FaceAnalyzer]:
    analyzer = FaceAnalyzer()
    yield analyzer
    analyzer.close()


def _selfies() -> list[bytes]:
    tilted = photos.grace_hopper().rotate(12, resample=Image.Resampling.BICUBIC)
    big = photos.astronaut().resize((1400, 1400))  # analysed on a reduced copy
    return [photos.to_bytes(p) for p in (photos.astronaut(), photos.grace_hopper(), tilted, big)]


def test_crops_put_the_eyes_level_at_the_same_place(faces: FaceAnalyzer) -> None:
    crops = training_crops(faces, _selfies(), size=SIZE)
    assert len(crops) == 4
    framing = Framing()
    for crop in crops:
        assert crop.size == (SIZE, SIZE)
        marks = find_landmarks(faces, np.asarray(crop))
        assert marks is not None
        (rx, ry), (lx, ly) = marks.right_eye, marks.left_eye
        assert abs(ry - ly) < 0.02 * SIZE  # level
        assert abs((rx + lx) / 2 - SIZE / 2) < 0.03 * SIZE  # centred
        assert abs((ry + ly) / 2 - framing.eye_line * SIZE) < 0.03 * SIZE
        assert abs((lx - rx) - framing.eye_gap * SIZE) < 0.03 * SIZE  # same face scale


def test_photos_without_a_face_are_skipped(faces: FaceAnalyzer) -> None:
    cat = photos.to_bytes(photos.chelsea())
    assert len(training_crops(faces, [cat, photos.to_bytes(photos.astronaut())], size=SIZE)) == 1
    with pytest.raises(NoUsableFaceError) as raised:
        training_crops(faces, [cat], size=SIZE)
    assert raised.value.failure_code is FailureCode.NO_FACE


def test_background_simplification_greys_the_corners(faces: FaceAnalyzer) -> None:
    import mediapipe as mp

    segmenter = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
    try:
        plain = training_crops(faces, [photos.to_bytes(photos.grace_hopper())], size=SIZE)
        grey = training_crops(
            faces, [photos.to_bytes(photos.grace_hopper())], size=SIZE, segmenter=segmenter
        )
    finally:
        segmenter.close()
    corner = np.asarray(grey[0])[:24, :24].astype(int)
    assert np.abs(corner - 128).max() <= 2
    assert np.abs(np.asarray(plain[0])[:24, :24].astype(int) - 128).max() > 20
    centre = (slice(SIZE // 2 - 16, SIZE // 2 + 16),) * 2
    assert np.array_equal(np.asarray(grey[0])[centre], np.asarray(plain[0])[centre])
