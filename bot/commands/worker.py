"""`headshots worker`: run the GPU worker that makes packs, one at a time."""

from __future__ import annotations

import argparse
import logging

NAME = "worker"
HELP = "run the GPU worker that trains and renders packs (one at a time)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --burst for one-shot runs."""
    parser.add_argument(
        "--burst", action="store_true", help="exit once the queue is empty (for batch hosts)"
    )


def run(args: argparse.Namespace) -> int:
    """Load the studio once, then take jobs until SIGINT or SIGTERM."""
    from engine.worker import run_worker
    from storage.settings import load_settings

    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run_worker(settings, burst=args.burst)
    return 0
