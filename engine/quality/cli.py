"""`headshots check PATH...`: run the quality gate over photos and folders, as a set."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from core.errors import HeadshotsError

if TYPE_CHECKING:
    from engine.quality.report import PhotoReport, SetReport

NAME = "check"
HELP = "Check selfies with the quality gate: a verdict, reasons and fixes per photo, and the set."
TABLE_SCORES = (
    ("face_px", "FACE", 4, 0),
    ("sharpness", "SHARP", 5, 2),
    ("brightness", "LIGHT", 5, 0),
    ("yaw", "YAW", 4, 0),
)


class UsageError(HeadshotsError):
    """The command line names no usable photo (exit status 2)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the paths and the --json switch."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help="photo files or folders of them")
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")


def run(args: argparse.Namespace) -> int:
    """Check every photo, then the set as a whole; exit 0 when the set is ready."""
    from core.settings import load_settings

    files = _photo_files(args.paths)
    if not files:
        raise UsageError("no photos found")
    _quiet_native_logs()
    settings = load_settings()
    reports = check_files(files, max_bytes=settings.max_upload_bytes)
    faces = [r.face for r in reports if r.face is not None]  # set-aside faces included
    from engine.quality.summary import summarize_set

    summary = summarize_set(faces, min_count=settings.min_selfies, max_count=settings.max_selfies)
    show = _print_json if args.json else _print_table
    show(files, reports, summary, sys.stdout)
    return 0 if summary.ready else 1


def check_files(files: Sequence[Path], *, max_bytes: int) -> list[PhotoReport]:
    """Return a report per file, judged as one set: the same verdicts in any order."""
    from engine.quality.batch import check_together
    from engine.quality.thresholds import DEFAULT_THRESHOLDS

    thresholds = replace(DEFAULT_THRESHOLDS, max_bytes=max_bytes)
    return check_together([(path.name, path.read_bytes()) for path in files], thresholds)


def _photo_files(paths: Iterable[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"no such file or folder: {raw}")
    return files


def _quiet_native_logs() -> None:
    """Keep mediapipe's C++ start-up chatter off a terminal meant for people."""
    import os

    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _print_json(
    files: Sequence[Path], reports: Sequence[PhotoReport], summary: SetReport, out: TextIO
) -> None:
    for path, report in zip(files, reports, strict=True):
        line = {
            "path": str(path),
            "verdict": str(report.verdict),
            "reasons": list(report.codes),
            "scores": report.scores,
            "summary": report.summary.english(),
        }
        print(json.dumps(line), file=out)
    final = {
        "set": True,
        "ready": summary.ready,
        "accepted": summary.accepted,
        "problems": list(summary.problems),
        "hints": [hint.english() for hint in summary.hints],
        "set_aside": list(summary.set_aside),
        "score": summary.score,
    }
    print(json.dumps(final), file=out)


def _print_table(
    files: Sequence[Path], reports: Sequence[PhotoReport], summary: SetReport, out: TextIO
) -> None:
    width = max(12, *(len(p.name) for p in files))
    head = "".join(f"{title:>{size + 2}}" for _, title, size, _ in TABLE_SCORES)
    print(f"{'PHOTO':<{width}}  {'VERDICT':<9}{head}  {'QUALITY':>7}  REASONS", file=out)
    for path, report in zip(files, reports, strict=True):
        cells = "".join(
            _cell(report.scores.get(key), size, digits) for key, _, size, digits in TABLE_SCORES
        )
        quality = _cell(report.face.quality if report.face else None, 5, 2)
        reasons = ", ".join(_mark(f.code, str(f.severity)) for f in report.findings) or "-"
        print(f"{path.name:<{width}}  {report.verdict!s:<9}{cells}  {quality}  {reasons}", file=out)
    print(file=out)
    fixes = [(p, r) for p, r in zip(files, reports, strict=True) if r.findings]
    for path, report in fixes:
        print(f"  {path.name}: {report.summary.english()}", file=out)
    if fixes:
        print(file=out)
    _print_set(summary, out)


def _cell(value: float | None, size: int, digits: int) -> str:
    text = "-" if value is None else f"{value:.{digits}f}"
    return f"{text:>{size + 2}}"


def _mark(code: str, severity: str) -> str:
    return code if severity == "rejected" else f"{code} (warning)"


def _print_set(summary: SetReport, out: TextIO) -> None:
    state = "ready to train" if summary.ready else "not ready"
    print(f"Set: {summary.accepted} accepted, {state} (score {summary.score:.2f})", file=out)
    for problem in summary.problems:
        print(f"  problem: {problem}", file=out)
    for line in summary.set_aside:
        print(f"  set aside: {line}", file=out)
    for hint in summary.hints:
        print(f"  hint: {hint.english()}", file=out)
