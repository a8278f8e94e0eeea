"""Each bad photo gets its reason code; good photos pass (real photos, degraded in code)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from engine.faces import LEFT_EYE_RING, RIGHT_EYE_RING, FaceAnalyzer
from engine.quality import PhotoReport, Verdict, check_photo
from engine.quality.measures import LEFT_SKIN, RIGHT_SKIN
from tests import photos


def check(image: Image.Image, analyzer: FaceAnalyzer) -> PhotoReport:
    return check_photo(photos.to_bytes(image.convert("RGB")), "photo 1", analyzer=analyzer)


def backlit(image: Image.Image, analyzer: FaceAnalyzer) -> Image.Image:
    """Return the photo with its head and body dimmed in front of a bright, washed-out backdrop."""
    rgb = photos.as_array(image).astype(np.float32)
    box = analyzer.detect(photos.as_array(image))[0]
    height, width = rgb.shape[:2]
    ys, xs = np.mgrid[:height, :width]
    cx, cy = box.center
    radius = box.side * 0.9
    head = ((xs - cx) / radius) ** 2 + ((ys - cy) / (radius * 1.3)) ** 2 < 1
    body = (ys > cy + box.side * 0.5) & (np.abs(xs - cx) < box.side * 1.3)
    person = (head | body).astype(np.float32)[..., None]
    out = rgb * 0.35 * person + np.minimum(rgb * 0.3 + 200, 255) * (1 - person)
    return Image.fromarray(out.clip(0, 255).astype(np.uint8))


def sunglasses(image: Image.Image, analyzer: FaceAnalyzer) -> Image.Image:
    """Return the photo with dark sunglasses drawn over the detector's eye keypoints."""
    out = image.copy()
    box = analyzer.detect(photos.as_array(image))[0]
    (rx, ry), (lx, ly) = box.keypoints[:2]
    gap = lx - rx
    draw = ImageDraw.Draw(out)
    for x, y in ((rx, ry), (lx, ly)):
        draw.ellipse([x - gap * 0.42, y - gap * 0.3, x + gap * 0.42, y + gap * 0.3], fill=(15,) * 3)
    draw.line([rx + gap * 0.4, ry, lx - gap * 0.4, ly], fill=(15,) * 3, width=3)
    return out


def collage(first: Image.Image, second: Image.Image) -> Image.Image:
    canvas = Image.new("RGB", (first.width + second.width, max(first.height, second.height)))
    canvas.paste(first, (0, 0))
    canvas.paste(second, (first.width, 0))
    return canvas


@pytest.mark.parametrize("photo", [photos.astronaut, photos.grace_hopper])
def test_good_portraits_are_accepted_with_a_face_record(
    photo: object, analyzer: FaceAnalyzer
) -> None:
    report = check(photo(), analyzer)  # type: ignore[operator]
    assert report.verdict is Verdict.ACCEPTED, report.findings
    assert report.face is not None and len(report.face.descriptor) == 128
    assert len(report.face.face_hash) == 16 and 0.5 < report.face.quality <= 1
    assert report.scores["sharpness"] > 0.26 and abs(report.scores["yaw"]) < 10
    assert report.summary.english().startswith("Great photo")


def test_exif_rotated_photo_passes_and_raw_sideways_photo_does_not(
    analyzer: FaceAnalyzer,
) -> None:
    sideways = photos.grace_hopper().rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    tagged = photos.to_bytes(sideways, exif=exif.tobytes())
    assert check_photo(tagged, "p", analyzer=analyzer).verdict is Verdict.ACCEPTED
    report = check(sideways, analyzer)
    assert report.codes == ("head_turned",) and "sideways" in report.summary.english()
    assert check(photos.astronaut().rotate(90), analyzer).codes == ("head_turned",)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("blur", "blurry"),
        ("dark", "too_dark"),
        ("overexposed", "overexposed"),
        ("burnt_out", "overexposed"),
        ("backlit", "backlit"),
        ("sunglasses", "eyes_hidden"),
        ("collage", "multiple_faces"),
        ("cut_top", "face_cut_off"),
        ("cut_side", "face_cut_off"),
        ("far_away", "face_too_small"),
        ("small_face", "low_resolution"),
        ("tilted", "head_turned"),
        ("cameraman", "head_turned"),
        ("cat", "no_face"),
    ],
)
def test_each_bad_photo_gets_its_reason(name: str, code: str, analyzer: FaceAnalyzer) -> None:
    hopper, astronaut = photos.grace_hopper(), photos.astronaut()
    far = Image.new("RGB", (hopper.width * 4, hopper.height * 3), (120, 130, 140))
    far.paste(hopper, (hopper.width, hopper.height))
    bad = {
        "blur": lambda: hopper.filter(ImageFilter.GaussianBlur(3)),
        "dark": lambda: ImageEnhance.Brightness(astronaut).enhance(0.25),
        "overexposed": lambda: Image.eval(hopper, lambda v: min(int(v * 2.2 + 40), 255)),
        "burnt_out": lambda: Image.eval(astronaut, lambda v: min(int(v * 2.2 + 40), 255)),
        "backlit": lambda: backlit(astronaut, analyzer),
        "sunglasses": lambda: sunglasses(hopper, analyzer),
        "collage": lambda: collage(astronaut, hopper),
        "cut_top": lambda: astronaut.crop((0, 95, 512, 512)),
        "cut_side": lambda: astronaut.crop((190, 0, 512, 512)),
        "far_away": lambda: far,
        "small_face": lambda: astronaut.resize((341, 341)),
        "tilted": lambda: hopper.rotate(35, expand=True, fillcolor=(128, 128, 128)),
        "cameraman": lambda: photos.camera().resize((1024, 1024)),  # in profile at his camera
        "cat": lambda: photos.chelsea().resize((902, 600)),
    }
    report = check(bad[name](), analyzer)
    assert report.verdict is Verdict.REJECTED
    assert report.findings[0].code == code, report.findings
    assert report.face is None and report.summary == report.findings[0].message


def test_mild_problems_are_warnings_not_rejections(analyzer: FaceAnalyzer) -> None:
    hopper = photos.grace_hopper()
    for image, code in (
        (ImageEnhance.Brightness(hopper).enhance(0.5), "too_dark"),
        (hopper.rotate(20, expand=True, fillcolor=(128, 128, 128)), "head_turned"),
        (hopper.filter(ImageFilter.GaussianBlur(1.5)), "blurry"),
    ):
        report = check(image, analyzer)
        assert report.verdict is Verdict.WARNING, report.findings
        assert report.codes == (code,) and report.face is not None
        assert report.summary.english().startswith("Accepted, but")


def test_a_small_face_far_behind_is_tolerated(analyzer: FaceAnalyzer) -> None:
    def scene(bystander_px: int) -> Image.Image:
        canvas = photos.grace_hopper().resize((1024, 1200))
        face = photos.astronaut().crop((120, 20, 330, 230)).resize((bystander_px, bystander_px))
        canvas.paste(face, (1024 - bystander_px, 1200 - bystander_px))
        return canvas

    behind = scene(320)
    assert len(analyzer.detect(photos.as_array(behind))) == 2
    report = check(behind, analyzer)
    assert report.verdict is Verdict.ACCEPTED and report.scores["faces"] == 1
    assert check(scene(400), analyzer).codes == ("multiple_faces",)


def shut_eyes(image: Image.Image, analyzer: FaceAnalyzer) -> Image.Image:
    """Return the photo with each eye painted over in its cheek's colour and a lash line."""
    rgb = photos.as_array(image)
    marks = analyzer.landmarks(rgb, analyzer.detect(rgb)[0])
    assert marks is not None
    out = image.copy()
    draw = ImageDraw.Draw(out)
    for ring, cheek in ((RIGHT_EYE_RING, RIGHT_SKIN), (LEFT_EYE_RING, LEFT_SKIN)):
        (x0, y0), (x1, y1) = marks.xy(ring).min(axis=0), marks.xy(ring).max(axis=0)
        cx, cy = marks.xy(cheek).mean(axis=0)
        skin = tuple(int(v) for v in rgb[int(cy), int(cx)])
        pad = (x1 - x0) * 0.15
        draw.ellipse([x0 - pad, y0 - pad * 2, x1 + pad, y1 + pad * 2], fill=skin)
        mid = (y0 + y1) / 2 + (y1 - y0) * 0.2
        box = [x0, mid - (x1 - x0) * 0.25, x1, mid + (x1 - x0) * 0.15]
        draw.arc(box, 10, 170, fill=(40, 30, 30), width=2)
    return out


@pytest.mark.parametrize("photo", [photos.astronaut, photos.grace_hopper])
def test_closed_eyes_are_caught(photo: object, analyzer: FaceAnalyzer) -> None:
    report = check(shut_eyes(photo(), analyzer), analyzer)  # type: ignore[operator]
    assert report.codes == ("eyes_closed",) and report.scores["eye_openness"] < 0.1


def test_reports_pickle(analyzer: FaceAnalyzer) -> None:
    import pickle

    report = check(photos.astronaut(), analyzer)
    assert pickle.loads(pickle.dumps(report)) == report
    rejected = check_photo(io.BytesIO(b"not a photo").getvalue(), "x", analyzer=analyzer)
    assert rejected.codes == ("unsupported_format",)
    assert pickle.loads(pickle.dumps(rejected)) == rejected
