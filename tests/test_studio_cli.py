"""`headshots tiny-model` and `headshots generate` on the CPU, in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from tests import photos


def test_tiny_model_then_a_whole_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("HEADSHOTS_TRAIN_MAX_STEPS", "2")
    model, selfies, out = tmp_path / "model", tmp_path / "selfies", tmp_path / "out"
    assert main(["tiny-model", str(model)]) == 0
    assert f"HEADSHOTS_BASE_MODEL={model}" in capsys.readouterr().out
    selfies.mkdir()
    photos.grace_hopper().save(selfies / "a.jpg")
    (selfies / "notes.txt").write_text("not a photo")
    args = ["generate", "--selfies", str(selfies), "--out", str(out), "--model", str(model)]
    assert main([*args, "--styles", "medical", "--count", "1", "--no-select"]) == 0
    records = json.loads((out / "results.json").read_text())
    assert [r["style"] for r in records] == ["medical", "medical"]  # 1.5x over-generated
    with Image.open(out / f"{records[0]['file']}.jpg") as jpeg:
        assert jpeg.format == "JPEG"
    err = capsys.readouterr().err
    assert "1 of 1 selfies framed" in err and "train [" in err and "2/2" in err


def test_unknown_model_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    photos.astronaut().save(tmp_path / "a.png")
    args = ["generate", "--selfies", str(tmp_path), "--out", str(tmp_path / "out")]
    assert main([*args, "--model", "no-such-org/no-such-model"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("headshots: HEADSHOTS_BASE_MODEL=") and "Traceback" not in err
    assert main([*args, "--styles", "no-such-style"]) == 2
    assert "unknown style" in capsys.readouterr().err
