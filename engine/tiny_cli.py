"""`headshots tiny-model DIR`: write a tiny random-weight pipeline for smoke tests without a GPU."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "tiny-model"
HELP = "write a tiny random-weight SDXL (or SD 1.5) pipeline folder for smoke tests"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take the folder and the architecture."""
    parser.add_argument("folder", type=Path, metavar="DIR", help="folder to write the model to")
    parser.add_argument("--kind", choices=("sdxl", "sd15"), default="sdxl", help="architecture")


def run(args: argparse.Namespace) -> int:
    """Build the model, save it in diffusers' format and say how to use it."""
    from engine.tiny import write_tiny_model

    folder = write_tiny_model(args.folder.resolve(), args.kind)
    print(f"wrote a tiny {args.kind} model to {folder}")
    print(f"use it with HEADSHOTS_BASE_MODEL={folder} (random weights: no faces, for plumbing)")
    return 0
