"""`headshots settings`: validate the settings and print them, secrets masked."""

from __future__ import annotations

import argparse

from core.settings import load_settings

NAME = "settings"
HELP = "validate and print the settings (secrets masked)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take no arguments."""


def run(args: argparse.Namespace) -> int:
    """Print one `name = value` line per setting."""
    for name, value in load_settings().model_dump().items():
        print(f"{name} = {value}")
    return 0
