"""Telegram's command menu in every language the bot speaks (setMyCommands per language code)."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from bot.text import messages as say
from bot.text.i18n import ENGLISH, languages, speaking, t

log = logging.getLogger(__name__)


def language_code(language: str) -> str | None:
    """Return Telegram's code for a catalog: two letters ("pt" for pt_BR); None for the default."""
    return None if language == ENGLISH else language.split("_", 1)[0].lower()


def menu(commands: tuple[str, ...]) -> list[BotCommand]:
    """Return the menu of `commands` in the current language."""
    return [BotCommand(name, t(say.COMMAND_HELP[name])) for name in commands]


async def publish_menus(bot: Bot, commands: tuple[str, ...]) -> None:
    """Set the command menu for each language; English is everyone else's."""
    for language in languages():
        with speaking(language):
            entries = menu(commands)
        try:
            await bot.set_my_commands(entries, language_code=language_code(language))
        except TelegramError as exc:  # the menu is a convenience: the bot answers without it
            log.warning("could not set the %s command menu: %s", language, exc)
