"""The text catalog: every message the bot can write has a translation in every shipped language,
with the same placeholders, and the person's language is picked from their platform's code."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.text import messages as say
from bot.text.i18n import LOCALE_DIR, languages, pick_language, speaking, t

ROOT = Path(__file__).resolve().parent.parent
# Where texts for a person are written: the bot, and the gate, whose words the bot translates.
SOURCES = (ROOT / "bot", ROOT / "engine" / "quality")
# The markers bot.text.i18n and engine.quality.report define.
KEYWORDS = {"_": None, "N_": None, "t": None, "words": None, "ngettext": (1, 2)}
TRANSLATED = [language for language in languages() if language != "en"]


def _message_ids() -> list[str | tuple[str, ...]]:
    ids = {
        message
        for source in SOURCES
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(source), keywords=KEYWORDS, comment_tags=()
        )
    }
    return sorted(ids, key=str)


def _catalog(language: str) -> Catalog:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "headshots.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_the_marked_texts_are_found() -> None:
    ids = _message_ids()
    assert len(ids) > 100
    assert say.JOB_ALREADY_RUNNING in ids
    assert ("{n} good photo so far", "{n} good photos so far") in ids


def _problems(catalog: Catalog) -> list[str]:
    """Return each message id the catalog lacks, leaves empty or fuzzy, or fills differently."""
    problems = []
    for message_id in _message_ids():
        key = message_id[0] if isinstance(message_id, tuple) else message_id
        entry = catalog.get(key)
        if entry is None or entry.fuzzy:
            problems.append(f"untranslated: {key!r}")
            continue
        sources = message_id if isinstance(message_id, tuple) else (message_id,)
        forms = (entry.string,) if isinstance(entry.string, str) else tuple(entry.string or ())
        wanted = set().union(*map(_fields, sources))
        # A plural's singular may leave out the count ("the other photo"); all forms together
        # must still use every placeholder, and none may invent one.
        used = set().union(*map(_fields, forms))
        if not all(forms):
            problems.append(f"empty form: {key!r}")
        elif used != wanted or (len(sources) == 1 and _fields(forms[0]) != wanted):
            problems.append(f"placeholders {used} != {wanted}: {key!r}")
    return problems


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    assert _problems(_catalog(language)) == []


def test_a_missing_or_mangled_translation_is_found() -> None:
    catalog = _catalog("es")
    catalog.delete(say.ASK_SUBJECT)
    catalog[say.STYLE_LIMIT].string = "Puedes elegir hasta {limite} estilos."
    found = _problems(catalog)
    assert len(found) == 2
    assert "untranslated" in found[0] or "untranslated" in found[1]


@pytest.mark.parametrize(
    ("code", "forced", "picked"),
    [
        ("es", "", "es"),
        ("es-419", "", "es"),
        ("es_MX", "", "es"),
        ("ES-es", "", "es"),
        ("de", "", "en"),  # no catalog: English
        ("", "", "en"),
        (None, "", "en"),
        ("en-GB", "es", "es"),  # the operator's setting wins
        ("es", "xx", "es"),  # an unknown setting is ignored
    ],
)
def test_the_language_comes_from_the_platform_code(
    code: str | None, forced: str, picked: str
) -> None:
    assert pick_language(code, forced) == picked


def test_commands_are_named_the_way_the_platform_types_them() -> None:
    with speaking("en", "/headshots "):
        assert "/headshots status shows progress" in t(say.JOB_ALREADY_RUNNING)
        assert "/headshots done" not in say.help_text(("start", "status", "help"))
    with speaking("es"):
        assert "/status muestra el progreso" in t(say.JOB_ALREADY_RUNNING)
        assert say.help_text().startswith("Comandos:")
