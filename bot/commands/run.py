"""`headshots run`: everything on one box: local Redis if needed, the worker, and a front end.

The bot serves every platform whose token is set (Discord, Telegram, or both in one process,
through `bot.host`); with no token it is the console chat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from core.settings import Settings, load_settings

NAME = "run"
WORKER_LOG = Path("data/logs/worker.log")
HELP = "start Redis (if none answers), the worker and the bot (Discord, Telegram, or the console)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take no arguments."""


def run(args: argparse.Namespace) -> int:
    """Run until Ctrl-C (or end of input in the console); stop every child cleanly."""
    from bot.commands import chat
    from bot.host import fronts_for, serve_until_signal
    from ops.logs import setup_logging_from
    from ops.supervise import headshots_command, local_redis_if_needed
    from ops.worker_supervisor import WorkerSupervisor

    settings = load_settings()
    fronts = fronts_for(settings)  # every platform with a token; none: the console chat
    worker = headshots_command("worker", "--supervised")
    with (
        local_redis_if_needed(settings.redis_url, Path("data/redis")),
        WorkerSupervisor(worker, WORKER_LOG.resolve(), env=worker_env(settings)),
    ):
        if not fronts:
            return int(chat.run(args))
        setup_logging_from(settings)
        asyncio.run(serve_until_signal(settings, fronts))
    return 0


def worker_env(settings: Settings) -> dict[str, str] | None:
    """Return the worker's environment: its /healthz and /metrics on the port after the bot's.

    Both processes read HEADSHOTS_OPS_PORT; on one box they cannot both bind it.
    """
    if settings.ops_port == 0:
        return None
    port = settings.ops_port + 1
    print(f"headshots run: the worker's /healthz and /metrics are on port {port}", file=sys.stderr)
    return {**os.environ, "HEADSHOTS_OPS_PORT": str(port)}
