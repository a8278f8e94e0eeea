"""`headshots telegram`: run the Telegram bot alone (the worker runs apart)."""

from __future__ import annotations

import argparse
import asyncio

from core.settings import load_settings

NAME = "telegram"
HELP = "run the Telegram bot (needs HEADSHOTS_TELEGRAM_TOKEN; run `headshots worker` beside it)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take no arguments."""


def run(args: argparse.Namespace) -> int:
    """Serve Telegram until SIGINT or SIGTERM."""
    from bot.host import fronts_for, serve_until_signal
    from ops.logs import setup_logging_from

    settings = load_settings()
    fronts = fronts_for(settings, ["telegram"])  # a missing token fails before logging starts
    setup_logging_from(settings)
    asyncio.run(serve_until_signal(settings, fronts))
    return 0
