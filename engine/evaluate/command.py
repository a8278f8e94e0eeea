"""`headshots evaluate`: score a pack against the selfies: identity, near-copies and variety."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

NAME = "evaluate"
HELP = (
    "measure a pack against the selfies (same person, near-copies, variety), per image, "
    "per style and overall; exit 1 when it misses the thresholds"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take the selfies and pack folders, --json and --out."""
    parser.add_argument("--selfies", type=Path, required=True, metavar="DIR", help="the selfies")
    parser.add_argument(
        "--pack",
        type=Path,
        required=True,
        metavar="DIR",
        help="the pack's images; a subfolder per style (results/<style>/NNN.png) or loose files",
    )
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write report.png and report.json")


def run(args: argparse.Namespace) -> int:
    """Print the figures; 0 when the pack meets the thresholds, 1 when it does not."""
    from core.settings import load_settings
    from engine.evaluate.cli import run_evaluation
    from engine.evaluate.measure import Passing

    settings = load_settings()
    passing = Passing(settings.evaluate_min_same_person, settings.evaluate_max_near_copies)
    # Keep mediapipe's C++ start-up chatter off a terminal meant for people.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    evaluation, text = run_evaluation(args.selfies, args.pack, passing, args.out, args.json)
    print(text)
    if args.out is not None and not args.json:
        print(f"report: {args.out / 'report.png'}, {args.out / 'report.json'}")
    return 0 if evaluation.summary.passed else 1
