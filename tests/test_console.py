"""The console front end: the same core, typed lines in, printed replies out."""

from __future__ import annotations

import contextlib
import io
import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

from PIL import ImageOps

from bot.chat.events import Button, Command, Photo, Press, Progress, Reply, Text, Unsupported
from bot.fronts.console.adapter import ConsoleSink, console_chat, parse_line
from bot.fronts.console.runner import serve_console
from tests import photos
from tests.ops_harness import process_env
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


async def test_every_sheets_buttons_stay_pressable_by_the_numbers_shown(tmp_path: Path) -> None:
    out = io.StringIO()
    sink = ConsoleSink(out, tmp_path)
    chat = console_chat()
    for album, (first, second) in enumerate([(1, 2), (3, 4)], start=1):
        row = (Button(f"⭐ {first}", f"keep:j:{first}"), Button(f"⭐ {second}", f"keep:j:{second}"))
        await sink.apply(chat, [Progress(f"j:sheet:{album}", f"images {first}-{second}", (row,))])
    assert "[1] ⭐ 1  [2] ⭐ 2" in out.getvalue() and "[3] ⭐ 3  [4] ⭐ 4" in out.getvalue()
    assert parse_line("2", sink.buttons, 1000) == [Press("keep:j:2")]  # the first sheet's
    kept = ((Button("✅ 1", "keep:j:1"), Button("⭐ 2", "keep:j:2")),)
    await sink.apply(chat, [Progress("j:sheet:1", "images 1-2", kept)])  # an edit keeps numbers
    assert "[updated] images 1-2\n     [1] ✅ 1  [2] ⭐ 2" in out.getvalue()
    await sink.apply(chat, [Reply("Continue?", ((Button("Continue", "continue"),),))])
    assert "[5] Continue" in out.getvalue()
    assert [parse_line(n, sink.buttons, 1000) for n in "145"] == [
        [Press("keep:j:1")], [Press("keep:j:4")], [Press("continue")],
    ]  # fmt: skip


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


EXIT_WITHIN_S = 5 * 2  # the 5 s, doubled for a machine shared with other test runs


def _descendants(pid: int) -> set[int]:
    """Return the ids of every live process below `pid` (Linux /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            found |= {int(child), *_descendants(int(child))}
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def _read_until(fd: int, fragment: bytes, timeout_s: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout_s
    while fragment not in seen:
        assert time.monotonic() < deadline, f"no {fragment!r} in:\n{seen.decode(errors='replace')}"
        if select.select([fd], [], [], 0.5)[0]:
            seen += os.read(fd, 65536)
    return seen


def _drain(fd: int) -> bytes:
    seen = b""
    with contextlib.suppress(OSError):  # EIO once the last process holding the tty exits
        while select.select([fd], [], [], 0.2)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            seen += chunk
    return seen


def test_ctrl_c_stops_the_console_chat_and_its_children(tmp_path: Path, redis_url: str) -> None:
    settings = queue_settings(tmp_path, redis_url, gate_workers=1)
    env = process_env(settings)
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session leader whose controlling terminal is the pty
        os.chdir(tmp_path)
        os.execve(sys.executable, [sys.executable, "-m", "bot.cli", "chat"], env)
    try:
        # The banner's last line says where the logs go; a Ctrl-C before it would cut it off.
        shown = _read_until(fd, b"bot.log.)", timeout_s=120)
        children = _descendants(pid)
        assert children, "the gate process should be running"
        os.write(fd, b"\x03")  # Ctrl-C, as the terminal sends it: SIGINT to the foreground group
        deadline = time.monotonic() + EXIT_WITHIN_S
        while (waited := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        while any(map(_alive, children)) and time.monotonic() < deadline:
            time.sleep(0.05)
        shown += _drain(fd)
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert waited[0] == pid, f"still running after Ctrl-C:\n{shown.decode(errors='replace')}"
    assert os.waitstatus_to_exitcode(waited[1]) == 130
    assert not [child for child in children if _alive(child)]
    assert b"Traceback" not in shown and b"KeyboardInterrupt" not in shown
    assert shown.count(b"data/logs/bot.log") == 1  # where the logs went, said once
