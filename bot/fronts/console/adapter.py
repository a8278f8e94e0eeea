"""Console front end: the same conversation core, in a terminal.

Type commands (/start), press buttons by their number, and give photos as file paths (several
paths, or a folder, make an album). Photos the bot sends are saved under the output folder.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.chat.events import (
    Button,
    ChatRef,
    Command,
    Effect,
    Event,
    Photo,
    Press,
    Progress,
    Reply,
    SendFiles,
    SendPhoto,
    Text,
    Unsupported,
)

IMAGE_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".heic",
    ".heif",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
}
ALBUM_MAX = 10


class ConsoleSink:
    """Prints effects; remembers the last buttons so a number presses one."""

    def __init__(self, out: TextIO, save_dir: Path) -> None:
        self._out = out
        self._save_dir = save_dir
        self.buttons: list[Button] = []
        self._saved = 0
        self._progress_keys: set[str] = set()  # messages shown once: later ones are edits

    async def apply(self, chat: ChatRef, effects: Sequence[Effect]) -> None:
        """Print each effect."""
        for effect in effects:
            self._print(effect)
        self._out.flush()

    def _print(self, effect: Effect) -> None:
        if isinstance(effect, Reply | Progress):
            prefix = "[updated] " if self._is_edit(effect) else ""
            self._out.write(f"\nbot> {prefix}{effect.text}\n")
            self._show_buttons(effect.buttons)
        elif isinstance(effect, SendFiles):
            paths = ", ".join(str(self._save(data, name)) for name, data in effect.files)
            self._out.write(f"\nbot> [files] {effect.caption} -> {paths}\n")
        elif isinstance(effect, SendPhoto):
            self._out.write(f"\nbot> [photo] {effect.caption} -> {self._save(effect.image)}\n")
        else:
            paths = ", ".join(str(self._save(image)) for image in effect.images)
            self._out.write(f"\nbot> [album] {effect.caption} -> {paths}\n")

    def _is_edit(self, effect: Reply | Progress) -> bool:
        if isinstance(effect, Reply):
            return False
        seen = effect.key in self._progress_keys
        self._progress_keys.add(effect.key)
        return seen

    def _show_buttons(self, rows: tuple[tuple[Button, ...], ...]) -> None:
        if not rows:
            return
        self.buttons = [button for row in rows for button in row]
        labels = [f"[{n}] {b.label}" for n, b in enumerate(self.buttons, start=1)]
        self._out.write("     " + "  ".join(labels) + "\n")

    def _save(self, image: bytes, name: str = "headshot.jpg") -> Path:
        self._save_dir.mkdir(parents=True, exist_ok=True)
        self._saved += 1
        path = self._save_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{self._saved:03d}-{name}"
        path.write_bytes(image)
        return path


def parse_line(line: str, buttons: Sequence[Button], max_bytes: int) -> list[Event]:
    """Turn one typed line into events: a command, a button press, photos, or text."""
    text = line.strip()
    paths = _image_paths(text)  # before commands: "/home/me/selfie.jpg" starts with a slash
    if paths:
        return _photo_events(paths, max_bytes)
    if text.startswith("/"):
        name, _, args = text[1:].partition(" ")
        return [Command(name.lower(), args.strip())]
    if text.isdigit() and 1 <= int(text) <= len(buttons):
        return [Press(buttons[int(text) - 1].data)]
    return [Text(text)]


def _image_paths(text: str) -> list[Path]:
    candidates = [Path(part).expanduser() for part in text.split()]
    if not candidates or not all(path.exists() for path in candidates):
        return []
    paths: list[Path] = []
    for path in candidates:
        if path.is_dir():
            paths += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            paths.append(path)
    return paths


def _photo_events(paths: list[Path], max_bytes: int) -> list[Event]:
    events: list[Event] = []
    batch = time.monotonic_ns()
    for index, path in enumerate(paths):
        size = path.stat().st_size
        if size > max_bytes:
            events.append(Unsupported("too_large", size))
            continue
        # Paths typed together behave like a chat album: one consolidated reply per 10.
        group = f"console-{batch}-{index // ALBUM_MAX}" if len(paths) > 1 else None
        events.append(Photo(path.read_bytes(), str(path), path.name, group))
    return events


async def read_lines(stream: TextIO) -> asyncio.Queue[str | None]:
    """Read `stream` line by line in a thread; None marks the end."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def pump() -> None:
        for line in stream:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    # A daemon thread, not the loop's executor: a read blocked on the terminal must not keep the
    # process alive after Ctrl-C (interpreter exit joins executor threads, never daemons).
    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    return queue


def console_chat() -> ChatRef:
    """Return the one chat of the console."""
    return ChatRef("console", "local", "local")


BANNER = (
    "Headshots console. Type /start to begin, a number to press a button, file or folder paths "
    "to send photos, /help for commands, Ctrl-D to quit."
)


def print_banner(out: TextIO = sys.stdout, log_file: Path | None = None) -> None:
    """Print how to use the console, and where the logs go (once: they stay off the chat)."""
    out.write(BANNER + "\n")
    if log_file is not None:
        out.write(f"(Logs go to {log_file}.)\n")
