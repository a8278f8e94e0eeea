"""The console front end: the same core, typed lines in, printed replies out."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import ImageOps

from bot.console_adapter import parse_line
from bot.console_runner import serve_console
from bot.events import Button, Command, Photo, Press, Text, Unsupported
from tests import photos
from tests.queue_harness import queue_settings


def test_parse_line(tmp_path: Path) -> None:
    one = tmp_path / "one.jpg"
    one.write_bytes(b"jpeg")
    (tmp_path / "two.png").write_bytes(b"png")
    (tmp_path / "notes.txt").write_text("not a photo")
    buttons = [Button("I agree", "consent")]
    assert parse_line("/start now\n", buttons, 1000) == [Command("start", "now")]
    assert parse_line("1", buttons, 1000) == [Press("consent")]
    assert parse_line("2", buttons, 1000) == [Text("2")]
    assert parse_line(str(one), buttons, 1000) == [Photo(b"jpeg", str(one), "one.jpg")]
    album = parse_line(str(tmp_path), buttons, 1000)
    assert [e.file_name for e in album if isinstance(e, Photo)] == ["one.jpg", "two.png"]
    groups = {e.group_id for e in album if isinstance(e, Photo)}
    assert len(groups) == 1
    assert None not in groups
    assert parse_line(str(one), buttons, 3) == [Unsupported("too_large", 4)]


async def test_console_journey_to_verdicts(tmp_path: Path, redis_url: str) -> None:
    settings = queue_settings(tmp_path, redis_url, min_selfies=2, gate_workers=1)
    face = photos.astronaut()
    single = tmp_path / "selfie.jpg"
    single.write_bytes(photos.to_bytes(face))
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "a-mirrored.jpg").write_bytes(photos.to_bytes(ImageOps.mirror(face)))
    (folder / "b-cat.jpg").write_bytes(photos.to_bytes(photos.chelsea()))
    stdin = io.StringIO(f"/start\n1\n3\nhello\n{single}\n{folder}\n/done\n")
    stdout = io.StringIO()
    await serve_console(settings, tmp_path / "out", stdin, stdout)
    text = stdout.getvalue()
    assert "[1] I agree" in text
    assert "Checklist" in text
    assert "waiting for selfies" in text
    assert "✅ Photo 1" in text
    assert "✅ Photo 2" in text  # the folder is one album: one reply for both photos
    assert "❌ Photo 3" in text
    assert text.count("so far") == 2
    assert "Pick up to" in text
