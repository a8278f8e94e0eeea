"""`headshots chat`: talk to the bot in this terminal (the worker runs apart)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from core.settings import load_settings

NAME = "chat"
HELP = "talk to the bot in this terminal (run `headshots worker` beside it)"
LOG_FILE = Path("data/logs/bot.log")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take no arguments."""


def run(args: argparse.Namespace) -> int:
    """Run the console chat until end of input."""
    from bot.fronts.console.runner import serve_console
    from ops.logs import setup_logging_from

    settings = load_settings()
    log_file = LOG_FILE.resolve()
    setup_logging_from(settings, log_file=log_file)  # the terminal is for the conversation
    asyncio.run(serve_console(settings, Path("data/console").resolve(), log_file=log_file))
    return 0
