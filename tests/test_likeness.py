"""Likeness on real photos: copies of a selfie are near-copies, strangers are far; variety."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest
from PIL import Image, ImageEnhance, ImageOps

from engine.faces import FaceAnalyzer
from engine.studio.likeness import (
    NEAR_COPY_DISTANCE,
    SAME_PERSON_DISTANCE,
    FaceSignature,
    Person,
    likeness,
    person_from_selfies,
    signature,
    variety,
)
from tests import photos


@pytest.fixture(scope="module")
def faces() -> Iterator[FaceAnalyzer]:
    analyzer = FaceAnalyzer()
    yield analyzer
    analyzer.close()


@pytest.fixture(scope="module")
def grace(faces: FaceAnalyzer) -> Person:
    original = photos.grace_hopper()
    selfies = [original, ImageEnhance.Brightness(original).enhance(0.8)]
    return person_from_selfies(faces, [photos.to_bytes(s) for s in selfies])


def _sign(faces: FaceAnalyzer, image: Image.Image) -> FaceSignature:
    rgb = photos.as_array(image)
    return signature(faces, rgb, faces.detect(rgb)[0])


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    return Image.open(io.BytesIO(photos.to_bytes(image, quality=quality))).convert("RGB")


def test_the_selfies_make_a_person_with_hashes_and_poses(grace: Person) -> None:
    assert len(grace.faces) == 2
    assert all(f.face_hash is not None and f.yaw is not None for f in grace.faces)
    assert len(grace.centroid) == 128


@pytest.mark.parametrize(
    "copy",
    [
        lambda im: im.rotate(10, resample=Image.Resampling.BICUBIC),
        lambda im: _jpeg(im, 30),
        lambda im: im.crop((40, 20, 480, 560)),
    ],
    ids=["rotated", "jpeg-q30", "cropped"],
)
def test_a_degraded_copy_of_a_selfie_is_a_near_copy(
    faces: FaceAnalyzer, grace: Person, copy: Callable[[Image.Image], Image.Image]
) -> None:
    alike = likeness(_sign(faces, copy(photos.grace_hopper())), grace)
    assert alike.near_copy and alike.copy_of == 0
    assert alike.hash_bits is not None and alike.hash_bits <= 4
    assert alike.same_person


def test_a_mirrored_shot_is_the_person_but_no_copy(faces: FaceAnalyzer, grace: Person) -> None:
    alike = likeness(_sign(faces, ImageOps.mirror(photos.grace_hopper())), grace)
    assert not alike.near_copy
    assert alike.hash_bits is not None and alike.hash_bits > 16
    assert NEAR_COPY_DISTANCE < alike.to_nearest <= alike.to_centroid + 0.02
    assert alike.same_person


@pytest.mark.parametrize("stranger", [photos.astronaut, photos.camera])
def test_another_person_is_far_and_no_copy(
    faces: FaceAnalyzer, grace: Person, stranger: Callable[[], Image.Image]
) -> None:
    alike = likeness(_sign(faces, stranger()), grace)
    assert alike.to_centroid > SAME_PERSON_DISTANCE
    assert not alike.same_person and not alike.near_copy


def test_one_photo_repeated_is_low_variety_and_different_people_are_not(
    faces: FaceAnalyzer,
) -> None:
    astronaut = photos.astronaut()
    repeated = [astronaut.crop((i * 6, i * 4, 512 - i * 5, 512 - i * 3)) for i in range(5)] + [
        ImageOps.mirror(astronaut.crop((i * 5, 0, 512, 512 - i * 6))) for i in range(5)
    ]
    samey = variety([_sign(faces, image) for image in repeated])
    assert samey.faces == 10 and samey.low
    assert samey.pairwise_distance < 0.2 and samey.pose_spread_deg < 5.0
    people = [photos.astronaut(), photos.grace_hopper(), photos.camera()]
    mixed = variety([_sign(faces, image) for image in people])
    assert not mixed.low
    assert mixed.pairwise_distance > 0.6 and mixed.pose_spread_deg > 10.0
