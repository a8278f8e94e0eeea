"""`headshots run`: everything on one box: local Redis if needed, the worker, and a front end.

The front end is Discord when HEADSHOTS_DISCORD_TOKEN is set (with Telegram beside it in the same
process when HEADSHOTS_TELEGRAM_TOKEN is set too), else Telegram when its token is set, else the
console chat.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from storage.settings import load_settings

NAME = "run"
HELP = "start Redis (if none answers), the worker and the bot (Discord, Telegram, or the console)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take no arguments."""


def run(args: argparse.Namespace) -> int:
    """Run until Ctrl-C (or end of input in the console); stop every child cleanly."""
    from bot.commands import chat, discord_bot, telegram
    from bot.supervise import child, headshots_command, local_redis_if_needed

    settings = load_settings()
    front = telegram if settings.telegram_token is not None else chat
    if settings.discord_token is not None:
        front = discord_bot  # serves Telegram as well when both tokens are set
    with (
        local_redis_if_needed(settings.redis_url, Path("data/redis")),
        child(headshots_command("worker"), "worker"),
    ):
        status: int = front.run(args)
    return status
