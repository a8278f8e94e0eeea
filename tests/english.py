"""What counts as English reaching a person who reads another language.

Every phrase of the English catalog (the template's message ids, split at placeholders, line
breaks and bullets) that the language's own translation of that message does not share, the
labels of the English buttons, and a few English words that no sentence of the other catalogs
uses. A journey fails on any of them in a text, caption, button label or file name it received.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from babel.messages.pofile import read_po

from bot.text.i18n import LOCALE_DIR

WORDS = re.compile(r"\b(the|your|you|please|with|and|this|here|from)\b", re.IGNORECASE)
_PIECES = re.compile(r"[\n•]")


@dataclass(frozen=True)
class English:
    """The English a person reading `language` must never see."""

    phrases: frozenset[str]  # parts of English sentences, two words or more
    labels: frozenset[str]  # whole English texts, e.g. the buttons "Continue", "No"

    def found_in(self, texts: Iterable[str]) -> list[str]:
        """Return every piece of English in `texts`."""
        found: list[str] = []
        for text in texts:
            found += [phrase for phrase in self.phrases if phrase in text]
            found += [text] if text.strip() in self.labels else []
            found += WORDS.findall(text)
        return found


@cache
def english_for(language: str) -> English:
    """Return the English that `language`'s catalog replaces."""
    with (LOCALE_DIR / "headshots.pot").open("rb") as handle:
        template = [m for m in read_po(handle) if m.id]
    with (LOCALE_DIR / language / "LC_MESSAGES" / "headshots.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    phrases: set[str] = set()
    labels: set[str] = set()
    for message in template:
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        entry = catalog.get(ids[0])
        assert entry is not None, f"untranslated: {ids[0]!r}"  # test_catalog says which
        forms = (entry.string,) if isinstance(entry.string, str) else tuple(entry.string or ())
        translated = "\n".join(forms)
        for msgid in ids:
            phrases |= {p for p in _phrases(msgid) if p not in translated}
            if msgid not in translated and not _fields(msgid):
                labels.add(msgid)
    return English(frozenset(phrases), frozenset(labels))


def _phrases(msgid: str) -> set[str]:
    found = set()
    for literal, _field, _spec, _conv in string.Formatter().parse(msgid):
        pieces = (piece.strip(" ,;:.()!?") for piece in _PIECES.split(literal))
        found |= {piece for piece in pieces if len(re.findall(r"[A-Za-z]{2,}", piece)) >= 2}
    return found


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}
