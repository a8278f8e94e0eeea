"""The gate on its calibration set (tests/variety.py): pose agrees across framings, and each kind
of bad light gets its own reason and fix."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.faces import FaceAnalyzer
from engine.quality import DEFAULT_THRESHOLDS, PhotoReport, Verdict, check_photo
from engine.quality.checks import FaceMeasures, photo_findings
from engine.quality.decode import decode
from tests import photos, variety

POSE_TOLERANCE_DEG = 4.0
# Group shots where the whole-photo detector finds one face or none: a wide row of twelve (it was
# accepted), a 5x5 grid (read as a sideways photo) and a wider grid (read as "no face").
FIRST_PASS_MISSES = [(12, 10, 200), (24, 5, 200), (25, 10, 250)]
AXES = ("yaw", "pitch", "roll")


def check(image: Image.Image, analyzer: FaceAnalyzer) -> PhotoReport:
    return check_photo(photos.to_bytes(image.convert("RGB")), "photo 1", analyzer=analyzer)


def box_of(image: Image.Image, analyzer: FaceAnalyzer) -> variety.Box:
    box = analyzer.detect(photos.as_array(image))[0]
    return (*box.center, box.side)


@pytest.mark.parametrize("name", ["astronaut", "grace"])
def test_pose_of_crops_and_wider_frames_agrees_with_the_full_photo(
    name: str, analyzer: FaceAnalyzer
) -> None:
    full = variety.portraits()[name]
    reference = check(full, analyzer)
    box = box_of(full, analyzer)
    copies = {**variety.VARIANTS["framing"], **variety.VARIANTS["scale"]}
    measured = 0
    for label, make in copies.items():
        report = check(make(full.copy(), box), analyzer)
        if "yaw" not in report.scores:
            continue  # too few pixels left for the mesh (a tight crop of the small astronaut)
        measured += 1
        for axis in AXES:
            gap = abs(report.scores[axis] - reference.scores[axis])
            assert gap <= POSE_TOLERANCE_DEG, (label, axis, gap)
        assert "head_turned" not in report.codes, (label, report.findings)
    assert measured >= 4


def test_ordinary_head_pose_warns_and_only_far_off_axis_is_rejected() -> None:
    level = FaceMeasures(
        faces=1, faces_sure=True, face_fraction=0.3, face_px=300.0, outside=0.0, yaw=0.0,
        pitch=0.0, roll=0.0, sharpness=0.8, brightness=150.0, clipped=0.0, backlight=0.6,
        eye_openness=0.3, eye_visibility=0.5,
    )  # fmt: skip
    t = DEFAULT_THRESHOLDS

    def verdicts(**pose: float) -> list[tuple[str, Verdict]]:
        found = photo_findings(FaceMeasures(**{**level.__dict__, **pose}), t)
        return [(f.code, f.severity) for f in found]

    assert verdicts() == []
    assert verdicts(pitch=25.3) == [("head_turned", Verdict.WARNING)]  # the podium, issue 15
    assert verdicts(yaw=30.0) == [("head_turned", Verdict.WARNING)]
    assert verdicts(pitch=-40.0) == [("head_turned", Verdict.REJECTED)]
    assert verdicts(yaw=52.0) == [("head_turned", Verdict.REJECTED)]  # the cameraman's profile


@pytest.mark.parametrize("name", ["astronaut", "grace"])
@pytest.mark.parametrize(
    ("light", "code"),
    [
        ("window behind", "backlit"),
        ("window glare", "backlit"),
        ("dim room", "too_dark"),
        ("flash", "overexposed"),
    ],
)
def test_each_kind_of_bad_light_gets_its_own_reason(
    name: str, light: str, code: str, analyzer: FaceAnalyzer
) -> None:
    full = variety.portraits()[name]
    relit = variety.VARIANTS["light"][light](full.copy(), box_of(full, analyzer))
    report = check(relit, analyzer)
    assert report.verdict is Verdict.REJECTED
    light_codes = {"backlit", "too_dark", "overexposed"} & set(report.codes)
    assert light_codes == {code}, report.findings


def test_a_silhouette_against_a_window_is_backlit_not_washed_out(analyzer: FaceAnalyzer) -> None:
    full = photos.grace_hopper()
    rgb = photos.as_array(full).astype(np.float32)
    h, w = rgb.shape[:2]
    ys, xs = np.mgrid[:h, :w]
    person = (((xs - w / 2) / (w * 0.3)) ** 2 + ((ys - h * 0.55) / (h * 0.45)) ** 2) < 1
    out = np.where(person[..., None], rgb * 0.08, 250.0)
    report = check(Image.fromarray(out.astype(np.uint8)), analyzer)
    assert report.codes == ("backlit",), report.findings
    assert "light is behind you" in report.summary.english()


@pytest.mark.parametrize(
    ("people", "columns", "cell_px"),
    [
        *[(2, 2, 512), (3, 3, 400), (4, 2, 400), (6, 3, 400), (6, 6, 300), (8, 4, 300)],
        *[(12, 6, 250), *FIRST_PASS_MISSES],
    ],
)
def test_a_group_photo_is_never_given_a_wrong_count(
    people: int, columns: int, cell_px: int, analyzer: FaceAnalyzer
) -> None:
    report = check(variety.group_photo(people, columns, cell_px), analyzer)
    assert report.codes[0] == "multiple_faces", report.findings
    said = report.summary.english().removeprefix("I see ").split(" people")[0]
    assert said in {str(people), "several"}, report.summary
    if people <= 4:
        assert said == str(people)  # few large faces: the number itself


@pytest.mark.parametrize(("people", "columns", "cell_px"), FIRST_PASS_MISSES)
def test_the_first_pass_alone_misses_these_groups(
    people: int, columns: int, cell_px: int, analyzer: FaceAnalyzer
) -> None:
    data = photos.to_bytes(variety.group_photo(people, columns, cell_px))
    rgb = decode(data, DEFAULT_THRESHOLDS).rgb
    first = [b for b in analyzer.detect(rgb) if b.score >= DEFAULT_THRESHOLDS.min_face_score]
    assert len(first) <= 1  # so the count above comes from the tiles


def test_one_person_is_never_counted_twice(analyzer: FaceAnalyzer) -> None:
    looked = 0
    for _, name, image in variety.calibration_set(lambda image: box_of(image, analyzer)):
        report = check(image, analyzer)
        assert "multiple_faces" not in report.codes, (name, report.findings)
        looked += "yaw" in report.scores
    assert looked >= 40  # most copies reach the face measures (the tiles ran on small faces)
