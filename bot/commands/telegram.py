"""`headshots telegram`: run the Telegram bot alone (the worker runs apart)."""

from __future__ import annotations

import argparse
import asyncio
import signal

from storage.errors import ConfigError
from storage.settings import Settings, load_settings, secret_values

NAME = "telegram"
HELP = "run the Telegram bot (needs HEADSHOTS_TELEGRAM_TOKEN; run `headshots worker` beside it)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take no arguments."""


def run(args: argparse.Namespace) -> int:
    """Serve Telegram until SIGINT or SIGTERM."""
    from bot.logs import setup_logging

    settings = load_settings()
    if settings.telegram_token is None:
        raise ConfigError("HEADSHOTS_TELEGRAM_TOKEN: not set (get one from @BotFather)")
    json_lines = settings.log_format == "json"
    setup_logging(settings.log_level, secrets=secret_values(settings), json_lines=json_lines)
    asyncio.run(_serve(settings))
    return 0


async def _serve(settings: Settings) -> None:
    from bot.telegram_runner import serve_telegram

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve_telegram(settings, stop)
