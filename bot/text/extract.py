"""Babel extraction of the style packs' words: each pack's title and description reach the catalog.

`make catalog` runs it through babel.cfg (`pybabel extract -F babel.cfg`), and the catalog test
reads the same mapping, so a new style pack is translated like any other text.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

# The fields of a style pack a person reads (the menu, captions, the buttons of the sheet).
SHOWN_FIELDS = ("title", "description")


def style_packs(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, None, str, list[str]]]:
    """Yield (line, function, message, comments) for the shown fields of one style pack."""
    source = fileobj.read()
    pack = tomllib.loads(source.decode("utf-8"))
    lines = source.decode("utf-8").splitlines()
    for field in SHOWN_FIELDS:
        text = pack.get(field)
        if isinstance(text, str) and text:
            yield _line_of(lines, field), None, text, [f"The {field} of the style {pack.get('id')}"]


def _line_of(lines: list[str], field: str) -> int:
    for number, line in enumerate(lines, start=1):
        if line.split("=", 1)[0].strip() == field:
            return number
    return 1
