"""`headshots worker`: run the GPU worker that makes packs, one at a time."""

from __future__ import annotations

import argparse

NAME = "worker"
HELP = "run the GPU worker that trains and renders packs (one at a time)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --tiers to narrow what is served, --burst for one-shot runs."""
    parser.add_argument(
        "--tiers",
        default="",
        help="serve only these tiers, e.g. express or express,studio (default: every tier whose"
        " backend setting is set)",
    )
    parser.add_argument(
        "--burst", action="store_true", help="exit once the queue is empty (for batch hosts)"
    )
    parser.add_argument(
        "--supervised",
        action="store_true",
        help="stop when the parent process ends (as `headshots run` starts it)",
    )


def run(args: argparse.Namespace) -> int:
    """Load the backends once, then take their tiers' jobs until SIGINT or SIGTERM."""
    from core.lifetime import end_with_parent
    from core.settings import load_settings
    from engine.worker.host import parse_tiers, run_worker
    from ops.logs import setup_logging_from

    if args.supervised:  # a killed `headshots run` leaves no worker
        end_with_parent()
    tiers = parse_tiers(args.tiers) if args.tiers else None  # a bad value: one line, status 2
    settings = load_settings()
    setup_logging_from(settings)
    run_worker(settings, tiers=tiers, burst=args.burst)
    return 0
