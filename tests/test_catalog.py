"""The text catalog: every message the bot can write (its code's texts and the style packs' titles
and descriptions) is in the template and translated, not fuzzy, in every shipped language, with
the same placeholders and the language's own plural forms; the person's language is picked from
their platform's code."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.text import messages as say
from bot.text.i18n import LOCALE_DIR, languages, pick_language, speaking, t
from engine.studio.styles import list_styles

ROOT = Path(__file__).resolve().parent.parent
# Where texts for a person are written, as `make catalog` reads them: the bot, the gate (whose
# words the bot translates) and the style packs.
MAPPING = ROOT / "babel.cfg"
# The markers bot.text.i18n and engine.quality.report define (the Makefile's -k options).
KEYWORDS = {"_": None, "N_": None, "t": None, "words": None, "ngettext": (1, 2)}
TRANSLATED = [language for language in languages() if language != "en"]
SHIPPED = {"es", "de", "fr", "pt_BR"}


@cache
def _message_ids() -> tuple[str | tuple[str, ...], ...]:
    with MAPPING.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(MAPPING))
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=())
    ids = {message for _file, _line, message, _comments, _context in found}
    return tuple(sorted(ids, key=str))


def _key(message_id: str | tuple[str, ...] | list[str]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


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
    for style in list_styles():  # data files, extracted by bot/text/extract.py
        assert style.title in ids
        assert style.description in ids


def test_the_template_holds_every_marked_text() -> None:
    with (LOCALE_DIR / "headshots.pot").open("rb") as handle:
        template = {_key(m.id) for m in read_po(handle) if m.id}
    marked = {_key(m) for m in _message_ids()}
    assert sorted(marked - template) == [], "run `make catalog`"
    assert sorted(template - marked) == [], "run `make catalog`"


def test_the_shipped_languages_are_there() -> None:
    assert set(TRANSLATED) == SHIPPED


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalog_has_its_languages_plural_forms(language: str) -> None:
    catalog = _catalog(language)
    # Babel's (CLDR's) rule for the language: what `pybabel init -l` writes.
    assert catalog.plural_forms == Catalog(locale=language).plural_forms
    for entry in catalog:
        if isinstance(entry.id, tuple):
            assert len(tuple(entry.string or ())) == catalog.num_plurals, entry.id


def _problems(catalog: Catalog) -> list[str]:
    """Return each message id the catalog lacks, leaves empty or fuzzy, or fills differently."""
    problems = []
    for message_id in _message_ids():
        key = _key(message_id)
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
    catalog[say.ASK_PACK_SIZE].flags.add("fuzzy")  # what `pybabel update` marks a changed text
    found = _problems(catalog)
    assert len(found) == 3
    assert sum("untranslated" in problem for problem in found) == 2


@pytest.mark.parametrize(
    ("code", "forced", "picked"),
    [
        ("es", "", "es"),
        ("es-419", "", "es"),
        ("es_MX", "", "es"),
        ("ES-es", "", "es"),
        ("es_ES.UTF-8", "", "es"),  # a terminal's LANG (the console chat)
        ("de", "", "de"),
        ("de-AT", "", "de"),
        ("fr-CA", "", "fr"),
        ("pt-BR", "", "pt_BR"),  # Discord's code
        ("pt-br", "", "pt_BR"),  # Telegram's
        ("pt", "", "pt_BR"),  # the one Portuguese there is
        ("pt-PT", "", "pt_BR"),
        ("ja", "", "en"),  # no catalog: English
        ("en-GB", "", "en"),
        ("C.UTF-8", "", "en"),
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
