"""The work behind `headshots evaluate`: read the folders, measure, print, write the report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from core.errors import HeadshotsError
from engine.evaluate.measure import Evaluation, GroupSummary, ImageResult, PackImage, Passing

PHOTO_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".heic", ".heif"}
ALL_STYLES = "all"
REPORT_NAMES = {"report.png"}  # a report written into the pack folder is not part of the pack


class UsageError(HeadshotsError):
    """The command line names no usable selfies or pack (exit status 2)."""


def read_selfies(folder: Path) -> list[bytes]:
    """Return the bytes of every photo in the selfies folder."""
    files = _photos(_folder(folder, "selfies"))
    if not files:
        raise UsageError(f"no photos (PNG, JPEG, WebP, HEIC) in the selfies folder {folder}")
    return [f.read_bytes() for f in files]


def read_pack(folder: Path) -> list[PackImage]:
    """Return the pack's images: loose files are style "all", files in a subfolder its style."""
    images = [
        PackImage(f.name, ALL_STYLES, f.read_bytes()) for f in _photos(_folder(folder, "pack"))
    ]
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images += [
            PackImage(f"{sub.name}/{f.name}", sub.name, f.read_bytes()) for f in _photos(sub)
        ]
    if not images:
        raise UsageError(f"no images (PNG, JPEG, WebP, HEIC) in the pack folder {folder}")
    return images


def run_evaluation(
    selfies_dir: Path, pack_dir: Path, passing: Passing, out_dir: Path | None, as_json: bool
) -> tuple[Evaluation, str]:
    """Measure the pack and write the report; return the evaluation and what to print."""
    from engine.evaluate.measure import evaluate
    from engine.evaluate.report import write_report
    from engine.faces import FaceAnalyzer

    selfies, images = read_selfies(selfies_dir), read_pack(pack_dir)
    faces = FaceAnalyzer()
    try:
        evaluation = evaluate(faces, selfies, images, passing)
    finally:
        faces.close()
    if out_dir is not None:
        write_report(evaluation, selfies, images, out_dir)
    text = json.dumps(evaluation.to_json(), indent=2) if as_json else table(evaluation)
    return evaluation, text


def table(evaluation: Evaluation) -> str:
    """Return the evaluation as a table per image, a table per group and a verdict line."""
    lines = [_image_header(), *(_image_row(r) for r in evaluation.images), ""]
    lines += [_group_header(), *(_group_row(g) for g in _groups(evaluation)), ""]
    lines.append(verdict_line(evaluation))
    return "\n".join(lines)


def verdict_line(evaluation: Evaluation) -> str:
    """Return "Pack: passed" or "Pack: failed" with the reasons."""
    summary, passing = evaluation.summary, evaluation.summary.passing
    failed = [g for g in _groups(evaluation) if not g.passed]
    reasons = []
    for group in failed:
        if group.same_person_share < passing.min_same_person:
            reasons.append(
                f"{group.name}: {group.same_person_share:.0%} same person, "
                f"needs {passing.min_same_person:.0%}"
            )
        if group.near_copies > passing.max_near_copies:
            reasons.append(
                f"{group.name}: {group.near_copies} near-copy(ies) of a selfie, "
                f"at most {passing.max_near_copies}"
            )
    return "Pack: passed" if summary.passed else "Pack: failed (" + "; ".join(reasons) + ")"


def _folder(folder: Path, what: str) -> Path:
    if not folder.is_dir():
        raise UsageError(f"the {what} folder {folder} does not exist or is not a folder")
    return folder


def _photos(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES and not _skipped(p)
    )


def _skipped(path: Path) -> bool:
    # `headshots generate` writes a JPEG export beside each PNG: the same image, counted once.
    export = path.suffix.lower() in {".jpg", ".jpeg"} and path.with_suffix(".png").exists()
    return export or path.name.startswith(".") or path.name in REPORT_NAMES


def _image_header() -> str:
    return f"{'IMAGE':<24} {'STYLE':<14} FACES  CENTROID  NEAREST  HASH    YAW  PITCH  VERDICT"


def _image_row(r: ImageResult) -> str:
    verdict = "kept" if r.kept else r.note
    return (
        f"{r.name[:24]:<24} {r.style[:14]:<14} {r.faces:>5}  {_num(r.to_centroid, 8, 3)}  "
        f"{_num(r.to_nearest, 7, 3)}  {_num(r.hash_bits, 4, 0)}  {_num(r.yaw, 5, 1)}  "
        f"{_num(r.pitch, 5, 1)}  {verdict}"
    )


def _group_header() -> str:
    return f"{'GROUP':<14} IMAGES  ONE FACE  SAME  MEDIAN    P90  COPIES  POSE SPREAD  PAIRWISE"


def _group_row(g: GroupSummary) -> str:
    samey = "  low variety" if g.low_variety else ""
    return (
        f"{g.name[:14]:<14} {g.images:>6}  {g.one_face:>8}  {g.same_person_share:>4.0%}  "
        f"{_num(g.median_distance, 6, 3)}  {_num(g.p90_distance, 5, 3)}  {g.near_copies:>6}  "
        f"{g.pose_spread_deg:>11.1f}  {g.pairwise_distance:>8.3f}{samey}"
    )


def _num(value: float | None, width: int, digits: int) -> str:
    text = "-" if value is None else f"{value:.{digits}f}"
    return f"{text:>{width}}"


def _groups(evaluation: Evaluation) -> Sequence[GroupSummary]:
    return (evaluation.summary.overall, *evaluation.summary.styles)
