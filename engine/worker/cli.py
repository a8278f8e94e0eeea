"""`headshots worker`: run the GPU worker that makes packs, one at a time."""

from __future__ import annotations

import argparse

NAME = "worker"
HELP = "run the GPU worker that trains and renders packs (one at a time)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --burst for one-shot runs."""
    parser.add_argument(
        "--burst", action="store_true", help="exit once the queue is empty (for batch hosts)"
    )
    parser.add_argument(
        "--supervised",
        action="store_true",
        help="stop when the parent process ends (as `headshots run` starts it)",
    )


def run(args: argparse.Namespace) -> int:
    """Load the studio once, then take jobs until SIGINT or SIGTERM."""
    from core.lifetime import end_with_parent
    from core.settings import load_settings
    from engine.worker.runner import run_worker
    from ops.logs import setup_logging_from

    if args.supervised:  # a killed `headshots run` leaves no worker
        end_with_parent()
    settings = load_settings()
    setup_logging_from(settings)
    run_worker(settings, burst=args.burst)
    return 0
