"""`headshots version`: print the installed version."""

from __future__ import annotations

import argparse
from importlib.metadata import version

NAME = "version"
HELP = "print the installed version"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take no arguments."""


def run(args: argparse.Namespace) -> int:
    """Print `headshots X.Y.Z`."""
    print(f"headshots {version('headshots')}")
    return 0
