"""`headshots evaluate` on real photos: the person's pack passes, strangers and copies are named."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from bot.cli import main
from engine.evaluate import Evaluation, PackImage, evaluate, summarize_pack
from engine.faces import FaceAnalyzer
from engine.studio.protocol import GeneratedImage
from tests import photos


@pytest.fixture(scope="module")
def faces() -> Iterator[FaceAnalyzer]:
    analyzer = FaceAnalyzer()
    yield analyzer
    analyzer.close()


def _selfies() -> list[bytes]:
    grace = photos.grace_hopper()
    return [
        photos.to_bytes(grace),
        photos.to_bytes(ImageEnhance.Brightness(grace).enhance(0.8)),
        photos.to_bytes(grace.crop((30, 30, 500, 580))),
    ]


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    return Image.open(io.BytesIO(photos.to_bytes(image, quality=quality))).convert("RGB")


def _other_shots() -> list[Image.Image]:
    """Return Grace Hopper mirrored and degraded: her aligned face hashes 28-30 bits from every
    selfie, as far as a stranger's, so these stand in for other photos of her, not copies."""
    mirrored = ImageOps.mirror(photos.grace_hopper())
    return [
        mirrored,
        mirrored.crop((40, 20, 480, 560)),
        mirrored.rotate(-8, resample=Image.Resampling.BICUBIC),
        ImageEnhance.Brightness(mirrored).enhance(1.25),
        _jpeg(mirrored, 35),
        ImageEnhance.Contrast(mirrored).enhance(0.7),
    ]


def _pack(style: str, images: list[Image.Image]) -> list[PackImage]:
    return [
        PackImage(f"{style}/{i:03d}.png", style, photos.to_bytes(im, "PNG"))
        for i, im in enumerate(images)
    ]


def _noise(seed: int) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def _notes(evaluation: Evaluation) -> dict[str, str]:
    return {r.name: r.note for r in evaluation.images if r.note}


def test_other_photos_of_the_person_score_high(faces: FaceAnalyzer) -> None:
    evaluation = evaluate(faces, _selfies(), _pack("office", _other_shots()))
    overall = evaluation.summary.overall
    assert evaluation.summary.passed
    assert overall.same_person_share == 1.0 and overall.near_copies == 0
    assert overall.p90_distance is not None and overall.p90_distance < 0.3
    assert all(
        r.kept and r.faces == 1 and r.hash_bits and r.hash_bits > 16 for r in evaluation.images
    )
    assert [s.name for s in evaluation.summary.styles] == ["office"]


def test_a_different_persons_photos_are_named(faces: FaceAnalyzer) -> None:
    shots = _other_shots()
    images = _pack("office", shots[:3]) + _pack(
        "park", [photos.astronaut(), *shots[3:], photos.camera()]
    )
    evaluation = evaluate(faces, _selfies(), images)
    assert _notes(evaluation) == {
        "park/000.png": "different person",
        "park/004.png": "different person",
    }
    office, park = evaluation.summary.styles
    assert office.passed and office.same_person_share == 1.0
    assert not park.passed and park.same_person_share == pytest.approx(3 / 5)
    assert evaluation.summary.overall.same_person_share == pytest.approx(6 / 8)
    assert not evaluation.summary.passed


def test_a_selfie_copied_into_the_pack_is_a_near_copy(faces: FaceAnalyzer) -> None:
    copied = photos.grace_hopper().rotate(4, resample=Image.Resampling.BICUBIC)
    evaluation = evaluate(faces, _selfies(), _pack("office", [*_other_shots()[:3], copied]))
    assert _notes(evaluation) == {"office/003.png": "near-copy of selfie 1"}
    copy = evaluation.images[3]
    assert copy.near_copy and copy.same_person and not copy.kept
    assert evaluation.summary.overall.near_copies == 1
    assert not evaluation.summary.passed  # the default allows no near-copy


def test_one_photo_repeated_ten_times_scores_low_on_variety(faces: FaceAnalyzer) -> None:
    astronaut = photos.astronaut()
    repeated = [astronaut.crop((i * 6, i * 4, 512 - i * 5, 512 - i * 3)) for i in range(5)]
    repeated += [ImageOps.mirror(im) for im in repeated]
    selfies = [photos.to_bytes(astronaut)]
    samey = evaluate(faces, selfies, _pack("studio", repeated)).summary.overall
    assert samey.low_variety
    assert samey.pose_spread_deg < 5.0 and samey.pairwise_distance < 0.2
    people = [astronaut, photos.grace_hopper(), photos.camera()]
    mixed = evaluate(faces, selfies, _pack("studio", people)).summary.overall
    assert not mixed.low_variety and mixed.pairwise_distance > 0.6


def test_the_worker_gets_a_summary_in_one_call(faces: FaceAnalyzer) -> None:
    generated = [
        GeneratedImage("office", seed, photos.to_bytes(im, "PNG"))
        for seed, im in enumerate(_other_shots()[:2])
    ] + [GeneratedImage("park", 7, photos.to_bytes(_noise(0), "PNG"))]
    summary = summarize_pack(faces, _selfies(), generated)
    figures = json.loads(json.dumps(summary.to_json()))
    assert figures["overall"]["images"] == 3 and figures["overall"]["one_face"] == 2
    assert [s["name"] for s in figures["styles"]] == ["office", "park"]
    assert figures["styles"][0]["passed"] and not figures["styles"][1]["passed"]
    assert figures["thresholds"]["min_same_person"] == 0.9
    assert not figures["passed"]


def _write(folder: Path, images: list[Image.Image]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        (folder / f"{i:03d}.png").write_bytes(photos.to_bytes(image, "PNG"))


def _selfie_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "selfies"
    folder.mkdir()
    for i, data in enumerate(_selfies()):
        (folder / f"{i}.jpg").write_bytes(data)
    return folder


def test_cli_passes_the_persons_pack_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "results"
    _write(pack / "office", _other_shots()[:3])
    _write(pack / "park", _other_shots()[3:])
    out = tmp_path / "report"
    argv = ["evaluate", "--selfies", str(_selfie_folder(tmp_path)), "--pack", str(pack)]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Pack: passed" in printed and "park/000.png" in printed
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "report.json").read_text())
    assert report["passed"] and len(report["images"]) == 6
    assert [s["name"] for s in report["styles"]] == ["office", "park"]


def test_cli_on_a_noise_pack_exits_1_with_no_faces_found_per_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "results"
    _write(pack / "corporate-grey", [_noise(seed) for seed in range(3)])
    argv = ["evaluate", "--selfies", str(_selfie_folder(tmp_path)), "--pack", str(pack)]
    assert main([*argv, "--out", str(tmp_path / "report")]) == 1
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith("corporate-grey/")]
    assert len(rows) == 3 and all(row.endswith("no faces found") for row in rows)
    assert lines[-2].startswith("Pack: failed (overall: 0% same person")
    assert (tmp_path / "report" / "report.png").exists()
    assert main([*argv, "--json"]) == 1
    figures = json.loads(capsys.readouterr().out)
    assert {i["note"] for i in figures["images"]} == {"no faces found"}
    assert figures["overall"]["median_distance"] is None


def test_cli_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    selfies = _selfie_folder(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["evaluate", "--selfies", str(selfies), "--pack", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["evaluate", "--selfies", str(selfies), "--pack", str(empty)]) == 2
    assert "no images" in capsys.readouterr().err
    cats = tmp_path / "cats"
    _write(cats, [photos.chelsea()])
    assert main(["evaluate", "--selfies", str(cats), "--pack", str(selfies)]) == 2
    assert "no face found in any selfie" in capsys.readouterr().err
    with pytest.raises(SystemExit) as missing:
        main(["evaluate", "--pack", str(selfies)])
    assert missing.value.code == 2
