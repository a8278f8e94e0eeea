"""`headshots discord`: run the Discord bot, with Telegram beside it when its token is set."""

from __future__ import annotations

import argparse
import asyncio

from core.settings import load_settings

NAME = "discord"
HELP = (
    "run the Discord bot (needs HEADSHOTS_DISCORD_TOKEN), and Telegram in the same process when"
    " HEADSHOTS_TELEGRAM_TOKEN is set; run `headshots worker` beside it"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take no arguments."""


def run(args: argparse.Namespace) -> int:
    """Serve Discord (and Telegram when its token is set) until SIGINT or SIGTERM."""
    from bot.host import fronts_for, serve_until_signal
    from ops.logs import setup_logging_from

    settings = load_settings()
    platforms = ["discord"] + (["telegram"] if settings.telegram_token is not None else [])
    fronts = fronts_for(settings, platforms)
    setup_logging_from(settings)  # the same scrubbing of tokens as every other command
    asyncio.run(serve_until_signal(settings, fronts))
    return 0
