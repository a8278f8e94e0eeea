"""Our face descriptor network (onnxruntime) against dlib's own, on real photos and variants."""

from __future__ import annotations

from pathlib import Path

import dlib
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageEnhance

from engine.faces import FaceAnalyzer, dlib_models_dir
from engine.faces.resnet import CHIP_PX, FaceResNet
from tests import photos

WEIGHTS = "dlib_face_recognition_resnet_model_v1.dat"


@pytest.fixture(scope="module")
def dlib_net() -> dlib.face_recognition_model_v1:
    return dlib.face_recognition_model_v1(str(dlib_models_dir() / WEIGHTS))


def _portraits() -> dict[str, Image.Image]:
    hopper = photos.grace_hopper()
    return {
        "astronaut": photos.astronaut(),
        "hopper": hopper,
        "cameraman": photos.camera(),
        "hopper dark": ImageEnhance.Brightness(hopper).enhance(0.4),
        "hopper turned": hopper.rotate(12, expand=True),
    }


@pytest.mark.parametrize("name", list(_portraits()))
def test_the_descriptor_equals_dlibs_own_network(
    name: str, analyzer: FaceAnalyzer, dlib_net: dlib.face_recognition_model_v1
) -> None:
    rgb = np.ascontiguousarray(photos.as_array(_portraits()[name]))
    box = analyzer.detect(rgb)[0]
    mine = np.array(analyzer.descriptor(rgb, box))
    # dlib's whole path on the same five points: chip extraction and its ResNet.
    shape = analyzer.five_points(rgb, box)
    theirs = np.array(dlib_net.compute_face_descriptor(rgb, shape, 0))
    assert mine.shape == (128,)
    assert np.abs(mine - theirs).max() < 1e-5
    assert 1.0 < float(np.linalg.norm(mine)) < 2.0  # dlib's scale, not a normalised vector


def test_same_person_near_and_different_people_far(analyzer: FaceAnalyzer) -> None:
    def vector(image: Image.Image) -> NDArray[np.float64]:
        rgb = photos.as_array(image)
        return np.array(analyzer.descriptor(rgb, analyzer.detect(rgb)[0]))

    portraits = _portraits()
    hopper, dark = vector(portraits["hopper"]), vector(portraits["hopper dark"])
    astronaut = vector(portraits["astronaut"])
    assert np.linalg.norm(hopper - dark) < 0.4
    assert np.linalg.norm(hopper - astronaut) > 0.6


def test_random_chips_match_dlib_too(dlib_net: dlib.face_recognition_model_v1) -> None:
    net = FaceResNet.from_file(dlib_models_dir() / WEIGHTS)
    rng = np.random.default_rng(7)
    for _ in range(3):
        chip = rng.integers(0, 256, (CHIP_PX, CHIP_PX, 3), dtype=np.uint8)
        theirs = np.array(dlib_net.compute_face_descriptor(chip))
        assert np.abs(net.descriptor(chip) - theirs).max() < 1e-5


def test_another_network_or_a_cut_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not dlib's face recognition ResNet"):
        FaceResNet.from_file(dlib_models_dir() / "shape_predictor_5_face_landmarks.dat")
    cut = tmp_path / WEIGHTS
    cut.write_bytes((dlib_models_dir() / WEIGHTS).read_bytes()[:5_000_000])
    with pytest.raises(ValueError, match=r"ResNet|ends inside"):
        FaceResNet.from_file(cut)


def test_a_chip_of_another_size_is_refused() -> None:
    net = FaceResNet.from_file(dlib_models_dir() / WEIGHTS)
    with pytest.raises(ValueError, match="150x150x3"):
        net.descriptor(np.zeros((120, 120, 3), np.uint8))
