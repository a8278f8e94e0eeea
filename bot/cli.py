"""The `headshots` command line: one entry point for the bot, the worker and operator tools.

Each subcommand lives in its own module with `NAME`, `HELP`, `add_arguments(parser)` and
`run(args) -> int`. Those modules import heavy libraries inside `run`, never at import time, so
`headshots --help` stays fast and the bot process stays light.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from setproctitle import setproctitle

from bot.commands import (
    chat,
    delete_user,
    discord_bot,
    doctor,
    jobs,
    run,
    settings,
    sweep,
    telegram,
    version,
)
from core.errors import HeadshotsError
from engine.evaluate import command as evaluate
from engine.quality import cli as check
from engine.retouch import cli as retouch
from engine.studio import cli as generate
from engine.studio import tiny_cli as tiny_model
from engine.worker import cli as worker

# In `headshots --help` order. Explicit imports, so the layering test sees every command.
COMMANDS: tuple[ModuleType, ...] = (
    run, chat, telegram, discord_bot, delete_user, sweep, version, settings, doctor,
    retouch, check, worker, evaluate, jobs, generate, tiny_model,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="headshots", description="An AI headshot studio that lives in chat."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
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


if __name__ == "__main__":
    sys.exit(main())
