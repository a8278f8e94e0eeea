"""The bot's slash commands on Discord: one /headshots group, its subcommands and their words.

Names stay English, as the texts type them ("/headshots delete"); descriptions are the catalog's
command help, localized for every Discord locale we have a catalog for (CatalogTranslator).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from bot.text import messages as say
from bot.text.i18n import N_, language_name, languages

GROUP = "headshots"
GROUP_HELP = N_("AI headshots from your selfies")
LANGUAGE_OPTION = N_("the language I write in")
# The commands Discord offers, in the menu's order (no /done: the Continue button does it).
COMMANDS = ("start", "status", "new", "cancel", "delete", "language", "privacy", "help")

Run = Callable[[discord.Interaction[Any], str, str], Awaitable[None]]
"""Answers a command: the interaction, the command's name and its argument ("" for none)."""


def commands_group(run: Run) -> app_commands.Group:
    """Return /headshots with a subcommand per name in COMMANDS."""
    group = app_commands.Group(name=GROUP, description=GROUP_HELP)
    for name in COMMANDS:
        group.add_command(_language(run) if name == "language" else _command(run, name))
    return group


def _command(run: Run, name: str) -> app_commands.Command[Any, Any, None]:
    async def callback(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, name, "")

    return app_commands.Command(name=name, description=say.COMMAND_HELP[name], callback=callback)


def _language(run: Run) -> app_commands.Command[Any, Any, None]:
    """Return /headshots language, with the language as an optional choice (buttons without)."""

    async def callback(interaction: discord.Interaction[Any], language: str | None = None) -> None:
        await run(interaction, "language", language or "")

    choices = [app_commands.Choice(name=language_name(code), value=code) for code in languages()]
    described = app_commands.describe(language=LANGUAGE_OPTION)(callback)
    chosen = app_commands.choices(language=choices)(described)
    return app_commands.Command(
        name="language", description=say.COMMAND_HELP["language"], callback=chosen
    )
