"""`headshots tiny-model DIR`: write a tiny random-weight pipeline for smoke tests without a GPU."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "tiny-model"
HELP = "write a tiny random-weight pipeline (SDXL, SD 1.5 or FLUX.2 klein) for smoke tests"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take the folder and the architecture."""
    parser.add_argument("folder", type=Path, metavar="DIR", help="folder to write the model to")
    parser.add_argument(
        "--family",
        "--kind",
        dest="family",
        choices=("sdxl", "sd15", "flux2-klein"),
        default="sdxl",
        help="architecture: sdxl or sd15 for the studio tier, flux2-klein for the express tier",
    )


def run(args: argparse.Namespace) -> int:
    """Build the model, save it in diffusers' format and say how to use it."""
    from engine.studio.tiny import write_tiny_model
    from engine.studio.tiny_flux2 import write_tiny_flux2_klein

    folder = args.folder.resolve()
    if args.family == "flux2-klein":
        write_tiny_flux2_klein(folder)
        setting = "HEADSHOTS_EXPRESS_MODEL"
    else:
        write_tiny_model(folder, args.family)
        setting = "HEADSHOTS_BASE_MODEL"
    print(f"wrote a tiny {args.family} model to {folder}")
    print(f"use it with {setting}={folder} (random weights: no faces, for plumbing)")
    return 0
