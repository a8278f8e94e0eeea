"""The person's language and the platform's command names, for every text the bot writes.

Texts are English message ids marked with `_` (translated where they are written) or `N_` (module
constants, translated where they are used, by `t`). Translations are gettext catalogs,
`bot/text/locale/<language>/LC_MESSAGES/headshots.po`, compiled in memory with Babel on first
use, so a translation is one `.po` file and nothing is built before the bot runs. The service
sets the voice for each event (`speaking`), the notifier for each job; both run the same texts.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "headshots"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
ENGLISH = "en"
SLASH = "/"


@dataclass(frozen=True)
class Voice:
    """How texts are written now: in which language, naming commands how the platform does."""

    language: str = ENGLISH
    command_prefix: str = SLASH  # Discord's commands are subcommands: "/headshots delete"


_voice: ContextVar[Voice] = ContextVar("voice", default=Voice())  # noqa: B039 (frozen, shared)


@cache
def languages() -> tuple[str, ...]:
    """Return the languages with a catalog, English (the message ids themselves) first."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (ENGLISH, *found)


def pick_language(code: str | None, forced: str = "") -> str:
    """Return the catalog for a platform's language code ("de-AT", "pt-BR", "es_ES.UTF-8").

    `forced` is the operator's setting and wins when it names a catalog; English is the
    fallback.
    """
    for wanted in (forced, code or ""):
        found = catalog_for(wanted)
        if found is not None:
            return found
    return ENGLISH


def catalog_for(code: str) -> str | None:
    """Return the catalog a code names: its own ("pt-BR": pt_BR), else its language's ("pt")."""
    wanted = code.split(".", 1)[0].replace("-", "_").lower()  # "es_ES.UTF-8" -> "es_es"
    if not wanted:
        return None
    shipped = {language.lower(): language for language in languages()}
    if wanted in shipped:
        return shipped[wanted]
    base = wanted.split("_", 1)[0]
    return next((found for key, found in shipped.items() if key.split("_")[0] == base), None)


@contextmanager
def speaking(language: str, command_prefix: str = SLASH) -> Iterator[Voice]:
    """Write every text in the block in `language`, naming commands with `command_prefix`."""
    token = _voice.set(Voice(language, command_prefix))
    try:
        yield _voice.get()
    finally:
        _voice.reset(token)


def current() -> Voice:
    """Return the voice texts are written in now."""
    return _voice.get()


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "marked, translated later")
    """Mark a constant for the catalog; `t` translates it where it is used."""
    return message


def _(message: str) -> str:
    """Return `message` in the current language."""
    return _catalog(_voice.get().language).gettext(message)


def translate(message: str, language: str) -> str:
    """Return `message` in `language` (itself where the catalog has no translation)."""
    return _catalog(language).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Return the singular or plural form for `count` in the current language."""
    return _catalog(_voice.get().language).ngettext(singular, plural, count)


def t(message: str, **params: Any) -> str:
    """Translate `message` and fill its placeholders, commands included ("{cmd_delete}")."""
    return _(message).format(**command_names(), **params)


def command(name: str) -> str:
    """Return how the person types command `name` on this platform."""
    return f"{_voice.get().command_prefix}{name}"


COMMAND_NAMES = (
    "start", "done", "status", "cancel", "new", "delete", "language", "privacy", "help",
)  # fmt: skip


def command_names() -> dict[str, str]:
    """Return the `{cmd_<name>}` placeholders every text may use."""
    return {f"cmd_{name}": command(name) for name in COMMAND_NAMES}


@cache
def language_name(language: str) -> str:
    """Return a catalog's language named in itself ("Deutsch", "Português (Brasil)")."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == ENGLISH or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
