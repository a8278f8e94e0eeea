"""The retouch's parts that need no face model: backdrops, framing maths, picking, kit, sheet."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from engine.quality.report import QualityError
from engine.retouch import background, framing, profile
from engine.retouch.decode import decode_rgb
from engine.retouch.options import ASPECTS, RetouchError, RetouchOptions
from engine.retouch.pick import pick_best
from engine.retouch.sheet import contact_sheet
from tests.photos import astronaut, to_bytes

NOT_CUT = {"left": False, "right": False, "top": False, "bottom": False}


@pytest.mark.parametrize("spec", ["grey", "white", "dark", "blur", "brand", "#0a66c2", "FF8800"])
def test_known_backgrounds_are_accepted(spec: str) -> None:
    assert background.check_spec(spec) == spec.lower()


@pytest.mark.parametrize("spec", ["purple", "#12345", "#GGGGGG", ""])
def test_unknown_background_is_a_clear_error(spec: str) -> None:
    with pytest.raises(RetouchError, match="background"):
        background.check_spec(spec)


def test_grey_studio_backdrop_is_lit_behind_the_head() -> None:
    grey = background.canvas("grey", 200, 250)
    assert grey.shape == (250, 200, 3)
    assert grey[95, 100].mean() > grey[5, 5].mean() + 40
    assert np.ptp(grey[..., 0] - grey[..., 2]) < 8  # neutral grey, no tint


def test_flat_backdrops_are_exactly_the_colour() -> None:
    assert np.all(background.canvas("white", 20, 10) == 255)
    brand = background.canvas("brand", 20, 10, brand_colour="#0A66C2")
    assert np.all(brand == np.asarray([10, 102, 194], dtype=np.float32))


def test_fill_behind_takes_the_colour_around_the_person() -> None:
    rgb = np.zeros((64, 64, 3), np.float32)
    rgb[:] = (200, 100, 50)
    alpha = np.zeros((64, 64), np.float32)
    alpha[16:48, 16:48] = 1.0
    rgb[16:48, 16:48] = (0, 255, 0)
    filled = background.fill_behind(rgb, alpha, scale=1.0)
    assert np.abs(filled[32, 32] - (200, 100, 50)).max() < 3


def _face(eyes_y: float = 200.0, roll_px: float = 0.0) -> framing.FaceGeometry:
    return framing.FaceGeometry(
        left_eye=(270.0, eyes_y - roll_px), right_eye=(330.0, eyes_y + roll_px), chin=(300.0, 300.0)
    )


def test_framing_puts_the_eyes_on_the_line_at_the_ideal_size() -> None:
    aspect = ASPECTS["1:1"]
    frame = framing.plan_frame(_face(), (600, 1200), aspect, RetouchOptions(), NOT_CUT)
    eye = frame.apply(np.asarray([[300.0, 200.0]]))[0]
    assert eye[0] == pytest.approx(aspect.width / 2, abs=1)
    assert eye[1] == pytest.approx(aspect.eye_line * aspect.height, abs=1)
    chin = frame.apply(np.asarray([[300.0, 300.0]]))[0]
    assert chin[1] - eye[1] == pytest.approx(aspect.face_scale * aspect.width, rel=0.01)


def test_framing_zooms_in_rather_than_invent_a_cut_off_body() -> None:
    # A tight selfie: the body runs into the bottom edge just under the chin.
    cut = {**NOT_CUT, "bottom": True, "left": True, "right": True}
    options = RetouchOptions()
    frame = framing.plan_frame(_face(), (600, 380), ASPECTS["1:1"], options, cut)
    corners = np.asarray([[0.0, 0.0], [600.0, 380.0]])
    (left, top), (right, bottom) = frame.apply(corners)
    assert bottom >= 1024 - 1  # the photo reaches the frame's bottom: nothing is invented there
    assert left <= 1 and right >= 1023
    assert top <= options.max_extension * 1024 + 1  # at most a mild extension above the head
    linear = frame.matrix[:, :2]
    singular = np.linalg.svd(linear, compute_uv=False)
    assert singular[0] == pytest.approx(singular[1])  # scaled evenly, never stretched


def test_framing_levels_a_tilted_head() -> None:
    frame = framing.plan_frame(
        _face(roll_px=5.0), (600, 1200), ASPECTS["4:5"], RetouchOptions(), NOT_CUT
    )
    left, right = frame.apply(np.asarray([[270.0, 195.0], [330.0, 205.0]]))
    assert abs(left[1] - right[1]) < 0.5


def test_cut_sides_sees_where_the_person_touches_the_border() -> None:
    mask = np.zeros((100, 100), np.float32)
    mask[40:, 20:80] = 1.0
    assert framing.cut_sides(mask) == {**NOT_CUT, "bottom": True}


@dataclass
class _Face:
    quality: float


@dataclass
class _Report:
    face: _Face | None


def test_pick_best_takes_the_highest_scores_first() -> None:
    picks = pick_best([(b"a", 0.4), (b"b", 0.9), (b"c", 0.7)], n=2)
    assert picks == [b"b", b"c"]


def test_pick_best_reads_gate_reports_and_skips_faceless_photos() -> None:
    reports = [(b"a", _Report(None)), (b"b", _Report(_Face(0.2))), (b"c", _Report(_Face(0.6)))]
    assert pick_best(reports, n=5) == [b"c", b"b"]


def test_banner_carries_the_name_and_title_in_its_text_area() -> None:
    colour = (10, 102, 194)
    plain = np.asarray(profile.banner("", "", colour), dtype=np.int16)
    text = np.asarray(profile.banner("Grace Hopper", "Rear Admiral, US Navy", colour), np.int16)
    assert text.shape == (396, 1584, 3)
    changed = np.abs(text - plain).max(axis=2) > 60
    left, top, right, bottom = profile.text_area()
    assert changed[top:bottom, left:right].sum() > 3000
    outside = changed.copy()
    outside[top:bottom, left:right] = False
    assert outside.sum() == 0


def test_banner_text_is_dark_on_a_light_brand_colour() -> None:
    image = np.asarray(profile.banner("Ada Lovelace", "Analyst", (242, 201, 76)))
    left, top, right, bottom = profile.text_area()
    assert image[top:bottom, left:right].min() < 60


def test_long_names_shrink_to_fit_the_banner() -> None:
    image = np.asarray(profile.banner("W" * 60, "T" * 90, (10, 102, 194)), dtype=np.int16)
    plain = np.asarray(profile.banner("", "", (10, 102, 194)), dtype=np.int16)
    changed = np.abs(image - plain).max(axis=2) > 60
    left = profile.text_area()[0]
    assert changed[:, : left - 40].sum() == 0


def test_profile_kit_sizes_without_a_face_model() -> None:
    kit = profile.profile_kit(
        to_bytes(astronaut()), name="Eileen Collins", title="Astronaut", brand_colour="#0A66C2"
    )
    sizes = {part: Image.open(io.BytesIO(data)).size for part, data in kit.items()}
    assert sizes == {"avatar": (800, 800), "signature": (240, 240), "banner": (1584, 396)}


def test_contact_sheet_lays_out_a_grid() -> None:
    tile = Image.new("RGB", (50, 80), (255, 0, 0))
    sheet = contact_sheet([[tile, tile, tile], [tile, tile, tile]], ["before", "grey", "white"])
    assert sheet.size == (12 + 3 * 372, 44 + 2 * 372 + 12)


def test_decode_applies_exif_orientation() -> None:
    image = Image.new("RGB", (600, 400), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = to_bytes(image, exif=exif)
    assert decode_rgb(data).shape[:2] == (600, 400)


def test_decode_reduces_a_large_jpeg_but_keeps_enough_pixels() -> None:
    data = to_bytes(astronaut().resize((4000, 3000)))
    assert decode_rgb(data).shape == (1500, 2000, 3)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"certainly not a jpeg", "unsupported_format"),
        (b"", "unreadable"),
        (to_bytes(astronaut().resize((200, 200))), "low_resolution"),
        (to_bytes(astronaut())[:4000], "unreadable"),
    ],
)
def test_decode_reuses_the_gate_s_refusals(data: bytes, code: str) -> None:
    with pytest.raises(QualityError) as refused:
        decode_rgb(data)
    assert refused.value.code == code
