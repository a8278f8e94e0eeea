"""The instant retouch on real photos, measured with the same face models the gate uses."""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import cache
from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from engine.faces import FaceAnalyzer
from engine.quality.report import QualityError
from engine.retouch import background, framing, skin
from engine.retouch.options import NoFaceError, RetouchError, RetouchOptions
from engine.retouch.pool import build_retoucher
from engine.retouch.retoucher import Retouched, Retoucher
from tests.photos import as_array, astronaut, chelsea, grace_hopper, to_bytes

PHOTOS = {"astronaut": astronaut, "grace_hopper": grace_hopper}
FAR_PX = 40  # "away from the person": at least this far from any pixel of the matte


@pytest.fixture(scope="module")
def retoucher() -> Iterator[Retoucher]:
    cv2.setNumThreads(1)
    built = build_retoucher()
    yield built
    built.close()


@pytest.fixture(scope="module")
def faces(retoucher: Retoucher) -> FaceAnalyzer:
    assert isinstance(retoucher.faces, FaceAnalyzer)
    return retoucher.faces


@cache
def _result(retoucher: Retoucher, photo: str, spec: str, aspect: str) -> Retouched:
    return retoucher.retouch_array(as_array(PHOTOS[photo]()), background=spec, aspect=aspect)


def _eyes(
    faces: FaceAnalyzer, rgb: NDArray[Any]
) -> tuple[tuple[float, float], tuple[float, float]]:
    found = faces.detect(rgb)
    assert found, "no face in the retouched image"
    marks = faces.landmarks(rgb, found[0])
    assert marks is not None
    return marks.right_eye, marks.left_eye


@pytest.mark.parametrize(("aspect", "size"), [("1:1", (1024, 1024)), ("4:5", (1080, 1350))])
def test_output_is_a_jpeg_of_the_exact_size(
    retoucher: Retoucher, aspect: str, size: tuple[int, int]
) -> None:
    jpeg = retoucher.retouch(to_bytes(astronaut()), background="white", aspect=aspect)
    with Image.open(io.BytesIO(jpeg)) as image:
        assert (image.format, image.size) == ("JPEG", size)


@pytest.mark.parametrize("photo", PHOTOS)
@pytest.mark.parametrize("aspect", ["1:1", "4:5"])
def test_eyes_sit_level_near_the_upper_third(
    retoucher: Retoucher, faces: FaceAnalyzer, photo: str, aspect: str
) -> None:
    image = _result(retoucher, photo, "grey", aspect).image
    height, width = image.shape[:2]
    right, left = _eyes(faces, image)
    eye_y = (right[1] + left[1]) / 2 / height
    eye_x = (right[0] + left[0]) / 2 / width
    assert 0.28 <= eye_y <= 0.42
    assert 0.42 <= eye_x <= 0.58
    assert abs(right[1] - left[1]) < 0.015 * width


def _far_from_person(alpha: NDArray[Any]) -> NDArray[Any]:
    outside = (alpha < 0.01).astype(np.uint8)
    return cv2.distanceTransform(outside, cv2.DIST_L2, 5) > FAR_PX


@pytest.mark.parametrize("photo", PHOTOS)
@pytest.mark.parametrize("spec", ["grey", "white", "dark", "#0A66C2"])
def test_background_away_from_the_person_is_the_requested_one(
    retoucher: Retoucher, photo: str, spec: str
) -> None:
    result = _result(retoucher, photo, spec, "1:1")
    far = _far_from_person(result.alpha)
    assert far.mean() > 0.08, "too little background to judge"
    height, width = far.shape
    expected = background.canvas(spec, width, height)
    error = np.abs(result.image.astype(np.float32) - expected)[far]
    assert error.mean() < 1.0
    assert error.max() <= 2.0


def test_background_survives_jpeg(retoucher: Retoucher) -> None:
    jpeg = retoucher.retouch(to_bytes(grace_hopper()), background="#0A66C2")
    image = np.asarray(Image.open(io.BytesIO(jpeg)), dtype=np.float32)
    far = _far_from_person(_result(retoucher, "grace_hopper", "#0A66C2", "1:1").alpha)
    assert np.abs(image - (10, 102, 194))[far].mean() < 3.0


def test_blurred_background_is_the_photo_s_own_softened(retoucher: Retoucher) -> None:
    result = _result(retoucher, "grace_hopper", "blur", "1:1")
    far = _far_from_person(result.alpha)
    plain = framing.warp(as_array(grace_hopper()).astype(np.float32), result.frame)
    grey_out = cv2.cvtColor(result.image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey_in = cv2.cvtColor(plain.astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail_out = np.abs(cv2.Laplacian(grey_out, cv2.CV_32F))[far].mean()
    detail_in = np.abs(cv2.Laplacian(grey_in, cv2.CV_32F))[far].mean()
    assert detail_out < 0.5 * detail_in
    colour_shift = np.abs(result.image.astype(np.float32) - plain)[far].mean(axis=0)
    assert colour_shift.max() < 40  # the same scene, blurred: not a flat colour


def _face_box(result: Retouched) -> tuple[int, int, int, int]:
    xs, ys = result.mesh[:, 0], result.mesh[:, 1]
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


@pytest.mark.parametrize("photo", PHOTOS)
def test_face_pixels_stay_close_to_the_original(retoucher: Retoucher, photo: str) -> None:
    result = _result(retoucher, photo, "white", "1:1")
    x0, y0, x1, y1 = _face_box(result)
    before = framing.warp(as_array(PHOTOS[photo]()).astype(np.float32), result.frame)
    person = result.alpha[y0:y1, x0:x1] > 0.99  # the face box's corners show the backdrop
    a = before[y0:y1, x0:x1].mean(axis=2)[person]
    b = result.image[y0:y1, x0:x1].astype(np.float32).mean(axis=2)[person]
    assert np.corrcoef(a, b)[0, 1] > 0.95
    assert np.abs(a - b).mean() < 25


def _inner_face(result: Retouched) -> tuple[int, int, int, int]:
    inner = result.mesh[[33, 263, 105, 334, 17, 61, 291]]  # eye corners, brows, mouth
    (x0, y0), (x1, y1) = inner.min(axis=0), inner.max(axis=0)
    return int(x0), int(y0), int(x1), int(y1)


def _sharpness(grey: NDArray[Any]) -> float:
    return float(cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F).var())


@pytest.mark.parametrize("photo", PHOTOS)
def test_face_keeps_its_detail(retoucher: Retoucher, faces: FaceAnalyzer, photo: str) -> None:
    original = as_array(PHOTOS[photo]())
    result = _result(retoucher, photo, "grey", "1:1")
    x0, y0, x1, y1 = _inner_face(result)
    # Compare at the input's own scale: enlarging alone would lower the Laplacian's variance.
    corners = np.asarray([[x0, y0], [x1, y1]], dtype=np.float64)
    inverse = cv2.invertAffineTransform(result.frame.matrix)
    (sx0, sy0), (sx1, sy1) = corners @ inverse[:, :2].T + inverse[:, 2]
    crop_in = cv2.cvtColor(original[int(sy0) : int(sy1), int(sx0) : int(sx1)], cv2.COLOR_RGB2GRAY)
    crop_out = cv2.cvtColor(result.image[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    crop_out = cv2.resize(crop_out, crop_in.shape[::-1], interpolation=cv2.INTER_AREA)
    assert _sharpness(crop_out) >= _sharpness(crop_in)


@pytest.mark.parametrize("photo", PHOTOS)
def test_identity_is_kept(retoucher: Retoucher, faces: FaceAnalyzer, photo: str) -> None:
    original = as_array(PHOTOS[photo]())
    image = _result(retoucher, photo, "grey", "1:1").image
    before = faces.descriptor(original, faces.detect(original)[0])
    after = faces.descriptor(image, faces.detect(image)[0])
    assert float(np.linalg.norm(np.subtract(before, after))) < 0.5


@pytest.mark.parametrize("photo", PHOTOS)
def test_hair_edge_is_feathered(retoucher: Retoucher, photo: str) -> None:
    result = _result(retoucher, photo, "grey", "1:1")
    alpha = result.alpha
    x0, y0, x1, _ = _face_box(result)
    above = alpha[:y0, x0:x1]  # the hair and the background above the face
    soft = (above > 0.05) & (above < 0.95)
    assert soft.any(axis=0).mean() > 0.9  # nearly every column crosses a soft edge
    assert alpha.min() == 0.0 and alpha.max() == 1.0


def test_tight_selfie_is_framed_without_inventing_pixels(retoucher: Retoucher) -> None:
    tight = astronaut().crop((130, 20, 330, 260))  # little more than the head
    result = retoucher.retouch_array(as_array(tight), background="white")
    assert result.image.shape == (1024, 1024, 3)
    inside = framing.warp(np.ones((260 - 20, 330 - 130), np.float32), result.frame, border=0.0)
    outside = inside < 0.5
    assert outside.mean() <= 0.2  # at most a mild extension of the backdrop
    clear = cv2.erode(outside.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0  # past the feather
    assert np.all(result.image[clear] == 255)  # and that extension is the clean backdrop


def test_tilted_head_is_levelled(retoucher: Retoucher, faces: FaceAnalyzer) -> None:
    tilted = astronaut().rotate(9, resample=Image.Resampling.BICUBIC, fillcolor=(200, 200, 200))
    image = retoucher.retouch_array(as_array(tilted), background="grey").image
    right, left = _eyes(faces, image)
    assert abs(right[1] - left[1]) < 0.01 * image.shape[1]


def test_effects_at_zero_strength_leave_the_person_as_photographed(retoucher: Retoucher) -> None:
    off = RetouchOptions(exposure=0, white_balance=0, local_contrast=0, skin_smoothing=0, sharpen=0)
    plain = Retoucher(retoucher.faces, retoucher.segmenter, off)
    result = plain.retouch_array(as_array(astronaut()), background="white")
    before = np.clip(framing.warp(as_array(astronaut()).astype(np.float32), result.frame), 0, 255)
    solid = result.alpha > 0.999
    assert np.abs(result.image[solid].astype(np.float32) - before[solid]).max() <= 1.0
    styled = _result(retoucher, "astronaut", "white", "1:1")
    assert np.abs(styled.image[solid].astype(np.float32) - before[solid]).mean() > 1.0


def test_photo_without_a_face_is_a_clear_error(retoucher: Retoucher) -> None:
    with pytest.raises(NoFaceError, match="face"):
        retoucher.retouch(to_bytes(chelsea().resize((902, 600))))


def test_unreadable_file_and_unknown_options_are_clear_errors(retoucher: Retoucher) -> None:
    with pytest.raises(QualityError, match="isn't a photo"):
        retoucher.retouch(b"\x89PNG but not really")
    with pytest.raises(RetouchError, match="background"):
        retoucher.retouch(to_bytes(astronaut()), background="plaid")
    with pytest.raises(RetouchError, match="aspect"):
        retoucher.retouch(to_bytes(astronaut()), aspect="16:9")


def test_profile_kit_centres_the_avatar_on_the_face(
    retoucher: Retoucher, faces: FaceAnalyzer
) -> None:
    kit = retoucher.profile_kit(
        to_bytes(astronaut()), name="Eileen Collins", title="Astronaut", brand_colour="#0A66C2"
    )
    avatar = np.asarray(Image.open(io.BytesIO(kit["avatar"])).convert("RGB"))
    assert avatar.shape == (800, 800, 3)
    box = faces.detect(avatar)[0]
    cx, cy = box.center
    radius = np.hypot(cx - 400, cy - 400) + box.side * 0.75  # the head reaches past the face box
    assert radius < 400  # the whole head stays inside the circle a profile picture is cut to


def test_black_and_white_photo_stays_black_and_white(retoucher: Retoucher) -> None:
    grey = Image.fromarray(as_array(grace_hopper()).mean(axis=2).astype(np.uint8)).convert("RGB")
    image = retoucher.retouch_array(as_array(grey), background="grey").image.astype(np.int16)
    assert np.abs(image[..., 0] - image[..., 2]).max() <= 6


def _only(*, skin_smoothing: float = 0.0, white_balance: float = 0.0) -> RetouchOptions:
    return RetouchOptions(
        exposure=0.0,
        white_balance=white_balance,
        local_contrast=0.0,
        skin_smoothing=skin_smoothing,
        sharpen=0.0,
    )


def test_skin_smoothing_leaves_eyes_brows_and_lips_sharp(retoucher: Retoucher) -> None:
    photo = as_array(grace_hopper())
    plain = Retoucher(retoucher.faces, retoucher.segmenter, _only())
    smooth = Retoucher(retoucher.faces, retoucher.segmenter, _only(skin_smoothing=1.0))
    before, after = plain.retouch_array(photo), smooth.retouch_array(photo)
    change = np.abs(after.image.astype(np.float32) - before.image).mean(axis=2)
    for part in (skin.LEFT_EYE, skin.RIGHT_EYE, skin.LIPS):
        (x0, y0), (x1, y1) = before.mesh[list(part)].min(0), before.mesh[list(part)].max(0)
        assert change[int(y0) : int(y1), int(x0) : int(x1)].mean() < 1.0
    cheek = before.mesh[[50, 280]]  # one point on each cheek
    for x, y in cheek.astype(int):
        assert change[y - 10 : y + 10, x - 10 : x + 10].mean() > 1.5
    away = (before.alpha >= 0.998) | (before.alpha <= 0.002)  # not the soft edge, whose
    x0, y0, x1, y1 = _face_box(before)  # colour comes from nearby person pixels
    away[max(0, y0 - 60) : y1 + 60, max(0, x0 - 60) : x1 + 60] = False
    assert change[away].max() == 0  # nothing changes away from the face


def _face_mean(rgb: NDArray[Any], result: Retouched) -> NDArray[Any]:
    x0, y0, x1, y1 = _inner_face(result)
    return np.asarray(rgb[y0:y1, x0:x1].reshape(-1, 3).astype(np.float32).mean(axis=0))


def test_exposure_lifts_an_underexposed_face(retoucher: Retoucher) -> None:
    dark = (as_array(astronaut()) * 0.45).astype(np.uint8)
    result = retoucher.retouch_array(dark)
    before = framing.warp(dark.astype(np.float32), result.frame)
    gain = _face_mean(result.image, result).mean() / _face_mean(before, result).mean()
    assert gain > 1.3


def test_white_balance_reduces_a_colour_cast(retoucher: Retoucher) -> None:
    warm = np.clip(as_array(grace_hopper()) * (1.15, 1.0, 0.75), 0, 255).astype(np.uint8)
    balance = Retoucher(retoucher.faces, retoucher.segmenter, _only(white_balance=1.0))
    result = balance.retouch_array(warm)
    before = framing.warp(warm.astype(np.float32), result.frame)
    r0, _, b0 = _face_mean(before, result)
    r1, _, b1 = _face_mean(result.image, result)
    assert r1 / b1 < 0.9 * (r0 / b0)
