"""The contact sheet: per-image controls after each delivered album, and what their buttons say.

Albums carry no buttons on Telegram, so after each album one message names its images by
number: ⭐ keep, 🔁 more like this, 🎲 re-roll the style, 📦 Done. Images are numbered across the
job in delivery order, and a re-roll's go on from where its pack's numbers got to (so "⭐ 5" is
one image of the pack); a button's data names the job and the number, never a blob key, and the
bot looks both up server-side against the presser's own scope (bot/service/sheet_desk.py).
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from bot.chat.events import Button, Progress
from bot.text import messages as say
from bot.text.i18n import t
from bot.text.progress import split_albums
from engine.jobs import Done, PackRequest
from engine.jobs.keys import sheet_message

SHEET_VERBS = frozenset({"keep", "more", "again", "zip"})
MORE_LIKE_COUNT = 4  # variations one "more like this" delivers
ROW = 5  # buttons per row: Discord's most, so its 5 rows of 5 hold an album of 10


@dataclass(frozen=True)
class SheetPress:
    """A contact-sheet button: `verb` is keep, more, again or zip; `value` names job and image."""

    verb: str
    value: str

    @property
    def job_id(self) -> str:
        """Return the job the button names."""
        return self.value.partition(":")[0]

    @property
    def number(self) -> int | None:
        """Return the image (keep, more) or album (again) number, None when malformed."""
        raw = self.value.partition(":")[2]
        return int(raw) if raw.isdigit() else None


@dataclass(frozen=True)
class SheetAlbum:
    """One delivered album of a job: its style, its images' numbers and their blob keys."""

    index: int  # 1-based, in delivery order
    style_id: str
    first: int  # the number of its first image
    keys: tuple[str, ...]

    @property
    def numbers(self) -> range:
        """Return the numbers of its images."""
        return range(self.first, self.first + len(self.keys))

    def images(self) -> list[tuple[int, str]]:
        """Return (number, blob key) of each of its images."""
        return list(zip(self.numbers, self.keys, strict=True))


def first_number(request: PackRequest) -> int:
    """Return the number of a job's first image: 1 for a pack, its pack's next for a re-roll."""
    return request.reroll.first_number if request.reroll is not None else 1


def sheet_albums(done: Done, first: int = 1) -> list[SheetAlbum]:
    """Return the job's albums as the notifier delivers them (see bot/delivery/endings.py)."""
    albums: list[SheetAlbum] = []
    number = first
    for result in done.results:
        for keys in split_albums(result.keys):
            albums.append(SheetAlbum(len(albums) + 1, result.style_id, number, keys))
            number += len(keys)
    return albums


def image_at(done: Done, number: int, first: int = 1) -> tuple[SheetAlbum, str] | None:
    """Return the album and blob key of image `number`, or None if the job has no such image."""
    for album in sheet_albums(done, first):
        if number in album.numbers:
            return album, album.keys[number - album.first]
    return None


def controls(
    job_id: str, album: SheetAlbum, kept: Collection[int], titles: Mapping[str, str]
) -> Progress:
    """Return the album's control message; a Progress, so a keep edits it in place."""
    title = say.style_title(album.style_id, titles)
    numbers = list(album.numbers)
    keep = [_button(say.SHEET_KEPT_LABEL if n in kept else say.SHEET_KEEP_LABEL, "keep", job_id, n)
            for n in numbers]  # fmt: skip
    more = [_button(say.SHEET_MORE_LABEL, "more", job_id, n) for n in numbers]
    last = (
        Button(t(say.SHEET_REROLL_LABEL, title=title), f"again:{job_id}:{album.index}"),
        Button(t(say.SHEET_DONE_LABEL), f"zip:{job_id}"),
    )
    text = t(
        say.SHEET_CONTROLS, title=title, first=numbers[0], last=numbers[-1], more=MORE_LIKE_COUNT
    )
    return Progress(key=sheet_message(job_id, album.index), text=text,
                    buttons=(*_rows(keep), *_rows(more), last))  # fmt: skip


def _button(label: str, verb: str, job_id: str, number: int) -> Button:
    return Button(t(label, number=number), f"{verb}:{job_id}:{number}")


def _rows(buttons: list[Button]) -> list[tuple[Button, ...]]:
    return [tuple(buttons[i : i + ROW]) for i in range(0, len(buttons), ROW)]
