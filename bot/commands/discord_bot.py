"""`headshots discord`: run the Discord bot alone (the worker runs apart)."""

from __future__ import annotations

import argparse
import asyncio
import signal

from storage.errors import ConfigError
from storage.settings import Settings, load_settings

NAME = "discord"
HELP = (
    "run the Discord bot (needs HEADSHOTS_DISCORD_TOKEN), and Telegram in the same process when"
    " HEADSHOTS_TELEGRAM_TOKEN is set; run `headshots worker` beside it"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take no arguments."""


def run(args: argparse.Namespace) -> int:
    """Serve Discord until SIGINT or SIGTERM."""
    from bot.logs import setup_logging

    settings = load_settings()
    if settings.discord_token is None:
        raise ConfigError("HEADSHOTS_DISCORD_TOKEN: not set (Discord developer portal, Bot tab)")
    setup_logging(settings.log_level)
    asyncio.run(serve(settings))
    return 0


async def serve(settings: Settings) -> None:
    """Serve Discord (and Telegram too when its token is set) until SIGINT or SIGTERM."""
    from bot.discord_runner import serve_discord

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve_discord(settings, stop, with_telegram=settings.telegram_token is not None)
