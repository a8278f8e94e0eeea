"""The `headshots` command line: one entry point for the bot, the worker and operator tools."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import version

from storage.errors import HeadshotsError

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="headshots", description="An AI headshot studio that lives in chat."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    show = commands.add_parser("version", help="print the installed version")
    show.set_defaults(handler=_version)
    settings = commands.add_parser("settings", help="validate and print the settings (no secrets)")
    settings.set_defaults(handler=_settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a known error becomes one clear line on stderr and exit status 2."""
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except HeadshotsError as exc:
        print(f"headshots: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _version(_args: argparse.Namespace) -> int:
    print(f"headshots {version('headshots')}")
    return 0


def _settings(_args: argparse.Namespace) -> int:
    from storage.settings import load_settings

    for name, value in load_settings().model_dump().items():
        print(f"{name} = {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
