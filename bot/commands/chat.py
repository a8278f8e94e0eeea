"""`headshots chat`: talk to the bot in this terminal (the worker runs apart)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from core.settings import load_settings

NAME = "chat"
HELP = "talk to the bot in this terminal (run `headshots worker` beside it)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take no arguments."""


def run(args: argparse.Namespace) -> int:
    """Run the console chat until end of input."""
    from bot.console_runner import serve_console
    from ops.logs import setup_logging_from

    settings = load_settings()
    setup_logging_from(settings, quiet=True)
    asyncio.run(serve_console(settings, Path("data/console").resolve()))
    return 0
