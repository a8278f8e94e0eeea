"""Checks across photos: duplicates, one person throughout, the set verdict and the CLI."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance

from bot.cli import main
from engine.faces import FaceAnalyzer
from engine.quality import FaceRecord, Verdict, check_photo, summarize_set
from tests import photos


def heic_bytes(image: Image.Image, **options: object) -> bytes:
    """Encode as HEIC, the iPhone's format (pillow-heif registers the encoder)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return photos.to_bytes(image, "HEIF", **options)


def record_of(image: Image.Image, label: str, analyzer: FaceAnalyzer) -> FaceRecord:
    report = check_photo(photos.to_bytes(image), label, analyzer=analyzer)
    assert report.face is not None, report.findings
    return report.face


def test_different_people_are_named_and_copies_of_one_person_are_not(
    analyzer: FaceAnalyzer,
) -> None:
    astronaut = record_of(photos.astronaut(), "photo 1", analyzer)
    hopper = check_photo(
        photos.to_bytes(photos.grace_hopper()), "photo 2", [astronaut], analyzer=analyzer
    )
    # One against one: a tie, so the gate asks instead of guessing which one is the person.
    assert hopper.verdict is Verdict.REJECTED and hopper.codes == ("different_person",)
    assert "same person as photo 1. Which one is you?" in hopper.summary.english()
    assert hopper.face is not None and hopper.person is not None and hopper.person.tie
    base = photos.astronaut()
    copies = {
        "darker": ImageEnhance.Brightness(base).enhance(0.6),
        "cropped": base.crop((60, 20, 480, 480)).resize((512, 560)),
        "rotated": base.rotate(12, expand=True, fillcolor=(120, 120, 120)),
        "recompressed": Image.open(io.BytesIO(photos.to_bytes(base, quality=35))),
    }
    for name, image in copies.items():
        report = check_photo(photos.to_bytes(image), name, [astronaut], analyzer=analyzer)
        assert "different_person" not in report.codes, (name, report.findings)
        assert report.codes == ("duplicate",), (name, report.findings)
        assert "same as photo 1" in report.summary.english()
    heic = check_photo(heic_bytes(base), "heic", [astronaut], analyzer=analyzer)
    assert heic.codes == ("duplicate",)


def test_the_majority_decides_who_the_set_is_about(analyzer: FaceAnalyzer) -> None:
    astronaut = record_of(photos.astronaut(), "photo 1", analyzer)
    hopper = record_of(photos.grace_hopper(), "photo 2", analyzer)
    same = record_of(photos.astronaut().rotate(8, expand=True), "photo 3", analyzer)
    report = check_photo(
        photos.to_bytes(photos.shots_of(photos.grace_hopper())[1]),
        "photo 4",
        [astronaut, hopper, same],
        counted=["photo 1", "photo 3"],
        analyzer=analyzer,
    )
    assert "different_person" in report.codes  # two against two: the set stays as it was
    assert report.person is not None and report.person.tie
    assert report.person.person == ("photo 1", "photo 3")
    summary = summarize_set([astronaut, hopper, same], min_count=3, max_count=5)
    assert summary.accepted == 2
    assert summary.set_aside == (
        "Photo 2 doesn't look like the other 2, so I've set it aside. Send only photos of you.",
    )
    assert summary.problems == (
        "2 of 3 photos so far: send 1 more.",
        "photo 1 and photo 3 are nearly the same photo.",
    )


def face(label: str, *, yaw: float = 0.0, light: float = 0.6, outfit: float = 50.0) -> FaceRecord:
    """Return a record of one and the same person with its own (distinct) face hash."""
    return FaceRecord(
        label=label,
        descriptor=(0.1,) * 128,
        face_hash=hashlib.sha256(label.encode()).hexdigest()[:16],
        quality=0.8,
        pose=(yaw, 0.0),
        light=(light, 0.0),
        outfit=(outfit, 0.0, 0.0),
    )


def test_set_is_ready_between_the_minimum_and_the_maximum() -> None:
    varied = [
        face(f"photo {i}", yaw=i * 5.0, light=0.3 + i * 0.05, outfit=20.0 + i * 8) for i in range(6)
    ]
    report = summarize_set(varied, min_count=6, max_count=8)
    assert report.ready and report.accepted == 6 and report.problems == () and report.hints == ()
    assert 0.7 < report.score <= 0.8
    short = summarize_set(varied[:4], min_count=6, max_count=8)
    assert not short.ready and short.problems == ("4 of 6 photos so far: send 2 more.",)
    assert short.score < report.score
    assert not summarize_set(varied, min_count=2, max_count=5).ready
    assert summarize_set([], min_count=6, max_count=20).score == 0.0


def test_a_uniform_set_gets_variety_hints() -> None:
    uniform = [face(f"photo {i}") for i in range(6)]
    hints = [hint.english() for hint in summarize_set(uniform, min_count=6, max_count=20).hints]
    assert len(hints) == 3
    assert "head slightly turned" in hints[0] and "light" in hints[1] and "clothes" in hints[2]
    bare = [FaceRecord(f"p{i}", (0.1,) * 128, f"{i:016x}", 0.8) for i in range(6)]
    assert summarize_set(bare, min_count=6, max_count=20).hints == ()


def test_cli_prints_a_table_and_json_and_exits_by_readiness(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "1-good.jpg").write_bytes(photos.to_bytes(photos.astronaut()))
    (tmp_path / "2-dark.jpg").write_bytes(
        photos.to_bytes(ImageEnhance.Brightness(photos.astronaut()).enhance(0.25))
    )
    (tmp_path / "3-notes.jpg").write_bytes(b"shopping list\n" * 40)
    assert main(["check", "--json", str(tmp_path)]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line.get("reasons") for line in lines[:3]] == [[], ["too_dark"], ["unsupported_format"]]
    assert lines[0]["verdict"] == "accepted" and lines[0]["scores"]["sharpness"] > 0
    assert lines[3]["ready"] is False and lines[3]["accepted"] == 1
    assert main(["check", str(tmp_path)]) == 1
    table = capsys.readouterr().out
    assert "2-dark.jpg" in table and "too_dark" in table and "Face a window" in table
    monkeypatch.setenv("HEADSHOTS_MIN_SELFIES", "1")
    assert main(["check", str(tmp_path / "1-good.jpg")]) == 0
    assert "ready to train" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "missing.jpg")]) == 2


def test_gate_runs_in_a_spawned_pool_with_models_loaded_once() -> None:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from engine.quality import warm_up

    jpeg = photos.to_bytes(photos.grace_hopper())
    with ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=warm_up) as pool:
        first = pool.submit(check_photo, jpeg, "photo 1").result(timeout=120)
        assert first.verdict is Verdict.ACCEPTED and first.face is not None
        again = pool.submit(check_photo, jpeg, "photo 2", [first.face]).result(timeout=120)
    assert again.codes == ("duplicate",) and "photo 1" in again.summary.english()
