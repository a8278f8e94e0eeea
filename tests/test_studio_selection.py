"""Selection on real photos: no face, two faces, another person and near-copies are dropped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from engine.faces import FaceAnalyzer
from engine.studio.protocol import GeneratedImage
from engine.studio.selection import reference_descriptors, select_best
from tests import photos


@pytest.fixture(scope="module")
def faces() -> Iterator[FaceAnalyzer]:
    analyzer = FaceAnalyzer()
    yield analyzer
    analyzer.close()


def _selfies() -> list[bytes]:
    grace = photos.grace_hopper()
    darker = ImageEnhance.Brightness(grace).enhance(0.8)
    return [
        photos.to_bytes(grace),
        photos.to_bytes(darker),
        photos.to_bytes(grace.crop((30, 30, 500, 580))),
    ]


def _two_faces() -> Image.Image:
    both = Image.new("RGB", (1024, 600), "white")
    both.paste(photos.astronaut(), (0, 44))
    both.paste(photos.grace_hopper(), (512, 0))
    return both


def _new_shot() -> Image.Image:
    """Return Grace Hopper mirrored: her aligned face hashes as far from the selfies as a
    stranger's (28 bits), so it stands in for another photo of her, not a copy of a selfie."""
    return ImageOps.mirror(photos.grace_hopper())


def _candidate(style_id: str, seed: int, image: Image.Image) -> GeneratedImage:
    return GeneratedImage(style_id, seed, photos.to_bytes(image, "PNG"))


def test_only_one_clear_face_of_the_person_is_kept_closest_first(faces: FaceAnalyzer) -> None:
    grace = _new_shot()
    candidates = [
        _candidate("studio", 1, photos.chelsea()),  # no face
        _candidate("studio", 2, _two_faces()),  # two faces
        _candidate("studio", 3, photos.astronaut()),  # another person
        _candidate("studio", 4, grace.filter(ImageFilter.GaussianBlur(2.5))),
        _candidate("studio", 5, grace),
        _candidate("studio", 6, photos.camera()),  # another person
        _candidate("park", 7, grace.rotate(8, resample=Image.Resampling.BICUBIC)),
        _candidate("park", 8, ImageEnhance.Contrast(grace).enhance(0.6)),
        _candidate("park", 9, photos.chelsea()),
    ]
    kept = select_best(faces, candidates, selfies=_selfies(), keep_per_style=5)
    assert [(k.style_id, k.seed) for k in kept if k.style_id == "studio"] == [
        ("studio", 5),
        ("studio", 4),
    ]
    assert {k.seed for k in kept if k.style_id == "park"} == {7, 8}
    assert [k.style_id for k in kept] == ["studio", "studio", "park", "park"]
    for style in ("studio", "park"):
        scores = [k.score for k in kept if k.style_id == style]
        assert all(s is not None and 0 <= s < 0.55 for s in scores)
        assert scores == sorted(scores)  # type: ignore[type-var]
    assert kept[0].png == candidates[4].png


def test_keep_per_style_caps_and_fewer_is_fine(faces: FaceAnalyzer) -> None:
    grace = _new_shot()
    candidates = [
        _candidate("a", 1, grace),
        _candidate("a", 2, grace.filter(ImageFilter.GaussianBlur(2.5))),
        _candidate("b", 3, photos.astronaut()),
    ]
    kept = select_best(faces, candidates, selfies=_selfies(), keep_per_style=1)
    assert [(k.style_id, k.seed) for k in kept] == [("a", 1)]


def test_selfies_without_a_face_give_no_reference(faces: FaceAnalyzer) -> None:
    assert reference_descriptors(faces, [photos.to_bytes(photos.chelsea())]) == []
    kept = select_best(
        faces,
        [_candidate("a", 1, photos.grace_hopper())],
        selfies=[photos.to_bytes(photos.chelsea())],
        keep_per_style=3,
    )
    assert kept == []


def test_a_copy_of_a_selfie_is_dropped_as_a_near_copy(faces: FaceAnalyzer) -> None:
    grace = photos.grace_hopper()
    candidates = [
        _candidate("a", 1, grace.rotate(6, resample=Image.Resampling.BICUBIC)),  # a selfie again
        _candidate("a", 2, _new_shot()),
    ]
    kept = select_best(faces, candidates, selfies=_selfies(), keep_per_style=2)
    assert [k.seed for k in kept] == [2]
