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
from bot.text.i18n import N_, t
from bot.text.progress import ALBUM_MAX  # a console "album" groups photos as Telegram would

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


class ConsoleSink:
    """Prints effects; numbers every button it shows, so a number presses one.

    A chat keeps every message's buttons under it (each album's contact sheet, not only the
    newest), so here each button keeps its number: new ones get the next numbers, and an edited
    message's buttons keep theirs.
    """

    def __init__(self, out: TextIO, save_dir: Path) -> None:
        self._out = out
        self._save_dir = save_dir
        self.buttons: list[Button] = []  # button n is buttons[n - 1]
        self._saved = 0
        self._numbered: dict[str, range] = {}  # a shown Progress's key -> its buttons' slots

    async def apply(self, chat: ChatRef, effects: Sequence[Effect]) -> None:
        """Print each effect."""
        for effect in effects:
            self._print(effect)
        self._out.flush()

    def _print(self, effect: Effect) -> None:
        if isinstance(effect, Reply | Progress):
            edit = isinstance(effect, Progress) and effect.key in self._numbered
            self._out.write(f"\nbot> {'[updated] ' if edit else ''}{effect.text}\n")
            self._show_buttons(effect)
        elif isinstance(effect, SendFiles):
            paths = ", ".join(str(self._save(data, name)) for name, data in effect.files)
            self._out.write(f"\nbot> [files] {effect.caption} -> {paths}\n")
        elif isinstance(effect, SendPhoto):
            saved = self._save(effect.image, effect.file_name)
            self._out.write(f"\nbot> [photo] {effect.caption} -> {saved}\n")
        else:
            named: tuple[str | None, ...] = effect.names or (None,) * len(effect.images)
            paths = ", ".join(
                str(self._save(image, name))
                for image, name in zip(effect.images, named, strict=True)
            )
            self._out.write(f"\nbot> [album] {effect.caption} -> {paths}\n")

    def _show_buttons(self, effect: Reply | Progress) -> None:
        shown = [button for row in effect.buttons for button in row if not button.url]
        slots = self._slots(effect, len(shown))
        for slot, button in zip(slots, shown, strict=True):
            self.buttons[slot] = button
        if shown:
            labels = [f"[{slot + 1}] {b.label}" for slot, b in zip(slots, shown, strict=True)]
            self._out.write("     " + "  ".join(labels) + "\n")
        for link in (button for row in effect.buttons for button in row if button.url):
            self._out.write(f"     {link.label}: {link.url}\n")  # opened in a browser

    def _slots(self, effect: Reply | Progress, count: int) -> range:
        """Return where the effect's buttons go: an edited message's own slots, else new ones."""
        key = effect.key if isinstance(effect, Progress) else None
        known = self._numbered.get(key) if key is not None else None
        if known is None or len(known) != count:
            known = range(len(self.buttons), len(self.buttons) + count)
            self.buttons.extend([Button("", "")] * count)
        if key is not None:
            self._numbered[key] = known
        return known

    def _save(self, image: bytes, name: str | None = None) -> Path:
        self._save_dir.mkdir(parents=True, exist_ok=True)
        self._saved += 1
        name = name or f"{self._saved}.jpg"
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


BANNER = N_(
    "Headshots console. Type /start to begin, a number to press a button, file or folder paths"
    " to send photos, /help for commands, Ctrl-D to quit."
)
LOGS_AT = N_("(Logs go to {path}.)")


def print_banner(out: TextIO = sys.stdout, log_file: Path | None = None) -> None:
    """Print how to use the console, and where the logs go (once: they stay off the chat)."""
    out.write(t(BANNER) + "\n")
    if log_file is not None:
        out.write(t(LOGS_AT, path=log_file) + "\n")
