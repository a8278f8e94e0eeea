"""`headshots doctor`: check settings, Redis, storage, the GPU and the base model."""

from __future__ import annotations

import argparse

from core.errors import ConfigError

NAME = "doctor"
HELP = "check settings, Redis, storage, the GPU and the base model; print what to fix"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --role: which process this host runs."""
    parser.add_argument(
        "--role",
        choices=("all", "bot", "worker"),
        default="all",
        help="bot: skip the GPU and the model; worker: skip the chat token (default: all)",
    )


def run(args: argparse.Namespace) -> int:
    """Print one line per check and a fix for each problem; exit 1 if anything is wrong."""
    from core.settings import load_settings
    from ops.doctor import run_checks

    try:
        settings = load_settings()
    except ConfigError as exc:
        print("FAIL  settings")
        for line in str(exc).splitlines():
            print(f"      {line}")
        print("      fix: correct these in .env or the environment (deploy/.env.example)")
        return 1
    print("ok    settings: valid")
    findings = run_checks(settings, args.role)
    for finding in findings:
        print(f"{'ok  ' if finding.ok else 'FAIL'}  {finding.check}: {finding.detail}")
        if not finding.ok:
            print(f"      fix: {finding.fix}")
    problems = sum(not finding.ok for finding in findings)
    print("all good" if not problems else f"{problems} problem(s) found")
    return 1 if problems else 0
