"""The gate's words in the person's language: the engine sends message ids with parameters
(engine.quality.report.Words, as JSON through the image pool), the bot translates them here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from babel.lists import format_list

from bot.text.i18n import current, t


def gate_text(raw: Mapping[str, Any]) -> str:
    """Return the gate's words (`Words.to_json()`) translated, their parameters too."""
    params = {name: _value(value) for name, value in raw.get("params", {}).items()}
    return t(str(raw.get("id", "")), **params)


def _value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return gate_text(value)  # words inside words: "Accepted, but ... {advice}"
    if isinstance(value, list):
        return format_list([str(item) for item in value], locale=current().language)
    return value
