"""The `headshots` command line: one entry point for the bot, the worker and operator tools.

Each subcommand lives in its own module with `NAME`, `HELP`, `add_arguments(parser)` and
`run(args) -> int`. Those modules import heavy libraries inside `run`, never at import time, so
`headshots --help` stays fast and the bot process stays light.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from setproctitle import setproctitle

from core.errors import HeadshotsError

COMMAND_MODULES = (
    "bot.commands.run",
    "bot.commands.chat",
    "bot.commands.telegram",
    "bot.commands.discord_bot",
    "bot.commands.delete_user",
    "bot.commands.sweep",
    "bot.commands.version",
    "bot.commands.settings",
    "bot.commands.doctor",
    "engine.retouch.cli",
    "engine.quality.cli",
    "engine.worker.cli",
    "engine.evaluate.command",
    "bot.commands.jobs",
    "engine.studio.cli",
    "engine.studio.tiny_cli",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="headshots", description="An AI headshot studio that lives in chat."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _command_modules():
        sub = commands.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


# What `ps` shows, so a host finds the processes by role: every front end is "headshots bot".
PROCESS_TITLES = {"run": "bot", "chat": "bot", "telegram": "bot", "discord": "bot"}


def process_title(command: str) -> str:
    """Return the process title of a subcommand."""
    return f"headshots {PROCESS_TITLES.get(command, command)}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a known error becomes one clear line on stderr and exit status 2."""
    args = build_parser().parse_args(argv)
    setproctitle(process_title(args.command))
    try:
        return int(args.handler(args))
    except HeadshotsError as exc:
        print(f"headshots: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _command_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in COMMAND_MODULES]


if __name__ == "__main__":
    sys.exit(main())
