"""Discord's slash commands in the person's language: discord.py asks, our catalog answers.

discord.py calls the tree's translator for every string of every command, once per Discord
locale, when it syncs; what it returns becomes the payload's description_localizations. Command
and option names stay English (the texts name them, and every platform types them alike).
"""

from __future__ import annotations

from discord import Locale, app_commands

from bot.text.i18n import ENGLISH, pick_language, translate

TRANSLATED = frozenset({
    app_commands.TranslationContextLocation.command_description,
    app_commands.TranslationContextLocation.group_description,
    app_commands.TranslationContextLocation.parameter_description,
})  # fmt: skip
MAX_DESCRIPTION = 100  # Discord's limit on a command's or an option's description


class CatalogTranslator(app_commands.Translator):
    """Translate command and option descriptions through the gettext catalog."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """Return the description in `locale`'s catalog, None where it is English or absent."""
        if context.location not in TRANSLATED:
            return None
        language = pick_language(locale.value)
        if language == ENGLISH:
            return None
        text = translate(string.message, language)
        return text[:MAX_DESCRIPTION] if text != string.message else None
