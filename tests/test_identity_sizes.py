"""The gate's identity verdict on real people: the same whatever the size, and set-aside photos
never block a photo sent again.

Photos from the public sets (bench/faces/fetch.sh): web photos of one person taken years apart
and a stranger's. The small web photos are scaled up to a phone photo's size first.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from engine.faces import FaceAnalyzer
from engine.quality import check_photo
from engine.quality.report import FaceRecord, PhotoReport, Verdict
from tests import real_faces

SELFIES = ("jerryseinfeldpublicityshotjpg", "jerryseinfeldheadshotjpg")
THIRD = "impactcelebritiesmediumjerrybjpg"
STRANGER = "akpinimgcomxdcfdcfedfaedadjpg"


def _file(real_faces_dir: Path, ending: str, short_px: int = 720) -> Image.Image:
    match = [p.path for p in real_faces.photos("celebrities") if p.path.stem.endswith(ending)]
    assert len(match) == 1, ending
    with Image.open(match[0]) as image:
        rgb = image.convert("RGB")
    factor = short_px / min(rgb.size)
    return rgb.resize(
        (round(rgb.width * factor), round(rgb.height * factor)), Image.Resampling.LANCZOS
    )


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


@pytest.fixture(scope="module")
def selfies(real_faces_dir: Path, analyzer: FaceAnalyzer) -> list[FaceRecord]:
    """Two accepted photos of one person: the set as the gate keeps it."""
    found: list[FaceRecord] = []
    for number, ending in enumerate(SELFIES, start=1):
        report = check_photo(_jpeg(_file(real_faces_dir, ending)), f"photo {number}", found,
                             analyzer=analyzer)  # fmt: skip
        assert report.verdict is Verdict.ACCEPTED and report.face is not None, report.codes
        found.append(report.face)
    return found


def _large(real_faces_dir: Path, ending: str, faces: FaceAnalyzer) -> bytes:
    """Return a 12 MP file of the photo, the face a fifth of its width (a half-length shot)."""
    image = _file(real_faces_dir, ending, short_px=480)
    face_px = faces.detect(real_faces.upright(_jpeg(image)))[0].width
    return real_faces.jpeg(real_faces.framed(image, 0.2, face_px, (3000, 4000)))


def _verdict(report: PhotoReport, label: str) -> str:
    assert report.person is not None, report.codes
    return "the person" if label in report.person.person else "set aside"


@pytest.mark.parametrize(("ending", "expected"), [(THIRD, "the person"), (STRANGER, "set aside")])
def test_a_file_and_its_chat_photo_get_the_same_identity_verdict(
    ending: str, expected: str, real_faces_dir: Path, selfies: list[FaceRecord],
    analyzer: FaceAnalyzer,
) -> None:  # fmt: skip
    large = _large(real_faces_dir, ending, analyzer)
    verdicts = {}
    for kind, data in (("file", large), ("chat photo", real_faces.chat_photo(large))):
        report = check_photo(data, "photo 3", selfies, analyzer=analyzer)
        verdicts[kind] = _verdict(report, "photo 3")
    assert verdicts == {"file": expected, "chat photo": expected}


def test_a_copy_of_a_set_aside_photo_is_judged_on_its_own_and_replaces_it(
    real_faces_dir: Path, selfies: list[FaceRecord], analyzer: FaceAnalyzer
) -> None:
    large = _large(real_faces_dir, STRANGER, analyzer)
    aside = check_photo(large, "photo 3", selfies, analyzer=analyzer)
    assert aside.face is not None and _verdict(aside, "photo 3") == "set aside"
    prior = [*selfies, aside.face]
    again = check_photo(real_faces.chat_photo(large), "photo 4", prior,
                        counted=["photo 1", "photo 2"], analyzer=analyzer)  # fmt: skip
    assert "duplicate" not in again.codes
    assert again.person is not None and again.person.set_aside == ("photo 4",)
    copy = check_photo(real_faces.chat_photo(_jpeg(_file(real_faces_dir, SELFIES[0]))), "photo 5",
                       prior, counted=["photo 1", "photo 2"], analyzer=analyzer)  # fmt: skip
    assert "duplicate" in copy.codes  # a copy of a photo that counts is still refused
