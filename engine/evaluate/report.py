"""report.png and report.json: the pack sorted by likeness, beside the selfies, with a histogram."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.evaluate.measure import Evaluation, GroupSummary, ImageResult, PackImage
from engine.studio.likeness import SAME_PERSON_DISTANCE

COLUMNS = 8
THUMB_PX = 256
KEPT, REJECTED = "#2e7d32", "#c62828"


def write_report(
    evaluation: Evaluation, selfies: Sequence[bytes], images: Sequence[PackImage], out: Path
) -> tuple[Path, Path]:
    """Write report.png and report.json into `out`; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    picture, figures = out / "report.png", out / "report.json"
    figures.write_text(json.dumps(evaluation.to_json(), indent=2) + "\n")
    figure = draw_report(evaluation, selfies, images)
    figure.savefig(picture, format="png")
    return picture, figures


def draw_report(
    evaluation: Evaluation, selfies: Sequence[bytes], images: Sequence[PackImage]
) -> Figure:
    """Return the report figure: selfies, the sorted contact sheet, histogram and summary."""
    data = {image.name: image.data for image in images}
    ordered = sorted(evaluation.images, key=_order)
    columns = max(5, min(COLUMNS, max(len(ordered), len(selfies))))
    rows = math.ceil(len(ordered) / columns) if ordered else 1
    figure = Figure(figsize=(2.1 * columns, 2.4 * (rows + 1) + 3.4), dpi=100)
    grid = figure.add_gridspec(rows + 2, columns, height_ratios=[1.0] * (rows + 1) + [1.6])
    for index, selfie in enumerate(selfies[:columns]):
        axes = figure.add_subplot(grid[0, index])
        _tile(axes, selfie, f"selfie {index + 1}", "#37474f")
        if index == 0:
            axes.set_ylabel(f"selfies ({len(selfies)})", fontsize=11)
    for index, result in enumerate(ordered):
        axes = figure.add_subplot(grid[1 + index // columns, index % columns])
        _tile(axes, data[result.name], _caption(result), KEPT if result.kept else REJECTED)
        if not result.kept:
            _stamp(axes, result.note)
        if index == 0:
            axes.set_ylabel("pack, alike first", fontsize=11)
    split = max(1, columns * 3 // 5)
    _histogram(figure.add_subplot(grid[rows + 1, :split]), evaluation.images)
    _summary(figure.add_subplot(grid[rows + 1, split:]), evaluation)
    figure.suptitle(_headline(evaluation), fontsize=14, color=_verdict_colour(evaluation))
    figure.tight_layout()
    return figure


def _order(result: ImageResult) -> tuple[bool, float, str]:
    distance = result.to_centroid
    return (distance is None, distance if distance is not None else 0.0, result.name)


def _tile(axes: Axes, data: bytes, caption: str, colour: str) -> None:
    axes.imshow(_thumbnail(data))
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_color(colour)
        spine.set_linewidth(4)
    axes.set_title(caption, fontsize=9, color=colour)


def _stamp(axes: Axes, note: str) -> None:
    axes.text(
        0.5,
        0.08,
        note,
        transform=axes.transAxes,
        ha="center",
        fontsize=8,
        color="white",
        bbox={"facecolor": REJECTED, "alpha": 0.85, "edgecolor": "none"},
    )


def _caption(result: ImageResult) -> str:
    distance = "no face" if result.to_centroid is None else f"d={result.to_centroid:.2f}"
    return f"{distance}\n{result.name[-26:]}"


def _thumbnail(data: bytes) -> NDArray[np.uint8]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError):
        return np.full((THUMB_PX, THUMB_PX, 3), 128, dtype=np.uint8)
    upright.thumbnail((THUMB_PX, THUMB_PX))
    return np.asarray(upright, dtype=np.uint8)


def _histogram(axes: Axes, results: Sequence[ImageResult]) -> None:
    styles = list(dict.fromkeys(r.style for r in results))
    groups = [
        [d for r in results if r.style == s and (d := r.to_centroid) is not None] for s in styles
    ]
    top = max([1.0, *(d for g in groups for d in g)])
    bins = [float(edge) for edge in np.linspace(0.0, top, 26)]
    if any(groups):
        axes.hist(groups, bins=bins, stacked=True, label=styles)
    else:
        axes.text(0.5, 0.5, "no faces found in any image", ha="center", transform=axes.transAxes)
    axes.axvline(SAME_PERSON_DISTANCE, color=REJECTED, linestyle="--", linewidth=2)
    axes.text(
        SAME_PERSON_DISTANCE,
        0.95,
        f" same person <= {SAME_PERSON_DISTANCE:.2f}",
        transform=axes.get_xaxis_transform(),
        color=REJECTED,
        va="top",
        fontsize=9,
    )
    axes.set_xlabel("distance to the selfies' centroid (lower: more alike)")
    axes.set_ylabel("images")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(styles) > 1:
        axes.legend(fontsize=8, loc="upper left")


def _summary(axes: Axes, evaluation: Evaluation) -> None:
    axes.axis("off")
    lines = [_group_line(g) for g in (evaluation.summary.overall, *evaluation.summary.styles)]
    header = "group          n  same  median   p90  copies  pose  pairwise"
    notes = [
        "",
        "same: share of images showing exactly one face of the person",
        "median, p90: distance to the selfies' centroid",
        "copies: near-copies of one selfie",
        "pose: spread of yaw and pitch (degrees)",
        "pairwise: median distance between two images' faces",
    ]
    text = "\n".join([header, *lines, *notes])
    axes.text(0.02, 1.0, text, family="monospace", fontsize=8, va="top", transform=axes.transAxes)


def _group_line(group: GroupSummary) -> str:
    median = "-" if group.median_distance is None else f"{group.median_distance:.2f}"
    p90 = "-" if group.p90_distance is None else f"{group.p90_distance:.2f}"
    samey = " low variety" if group.low_variety else ""
    return (
        f"{group.name[:12]:<12} {group.images:>3} {group.same_person_share:>5.0%} {median:>7} "
        f"{p90:>5} {group.near_copies:>6} {group.pose_spread_deg:>5.1f} "
        f"{group.pairwise_distance:>8.2f}{samey}"
    )


def _headline(evaluation: Evaluation) -> str:
    summary = evaluation.summary
    state = "PASSED" if summary.passed else "FAILED"
    return (
        f"{state}: {summary.overall.same_person_share:.0%} same person "
        f"(need {summary.passing.min_same_person:.0%}), "
        f"{summary.overall.near_copies} near-copy(ies) (at most {summary.passing.max_near_copies})"
    )


def _verdict_colour(evaluation: Evaluation) -> str:
    return KEPT if evaluation.summary.passed else REJECTED
