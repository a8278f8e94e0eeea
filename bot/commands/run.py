"""`headshots run`: everything on one box: local Redis if needed, the worker, and a front end.

The bot serves every platform whose token is set (Discord, Telegram, or both in one process,
through `bot.host`); with no token it is the console chat.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from core.settings import load_settings

NAME = "run"
WORKER_LOG = Path("data/logs/worker.log")
HELP = "start Redis (if none answers), the worker and the bot (Discord, Telegram, or the console)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take no arguments."""


def run(args: argparse.Namespace) -> int:
    """Run until Ctrl-C (or end of input in the console); stop every child cleanly."""
    from bot.commands import chat
    from bot.host import fronts_for, serve_until_signal
    from bot.supervise import headshots_command, local_redis_if_needed
    from bot.worker_supervisor import WorkerSupervisor
    from ops.logs import setup_logging_from

    settings = load_settings()
    fronts = fronts_for(settings)  # every platform with a token; none: the console chat
    with (
        local_redis_if_needed(settings.redis_url, Path("data/redis")),
        WorkerSupervisor(headshots_command("worker", "--supervised"), WORKER_LOG.resolve()),
    ):
        if not fronts:
            return int(chat.run(args))
        setup_logging_from(settings)
        asyncio.run(serve_until_signal(settings, fronts))
    return 0
