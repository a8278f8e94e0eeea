"""Measure a pack: identity, near-copies and variety per image, per style and overall.

`summarize_pack` is the one call a worker or a bench needs; `headshots evaluate` (engine.evaluate.
cli) adds the table, report.png and report.json.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.evaluate.measure import (
    DEFAULT_PASSING,
    Evaluation,
    GroupSummary,
    ImageResult,
    NoSelfieFaceError,
    PackImage,
    PackSummary,
    Passing,
    evaluate,
)
from engine.faces import FaceAnalyzer
from engine.studio.protocol import GeneratedImage

__all__ = [
    "Evaluation",
    "GroupSummary",
    "ImageResult",
    "NoSelfieFaceError",
    "PackImage",
    "PackSummary",
    "Passing",
    "evaluate",
    "pack_images",
    "summarize_pack",
]


def pack_images(images: Sequence[GeneratedImage]) -> list[PackImage]:
    """Return the generated images as pack images named `style/seed`."""
    return [PackImage(f"{i.style_id}/{i.seed}", i.style_id, i.png) for i in images]


def summarize_pack(
    faces: FaceAnalyzer,
    selfies: Sequence[bytes],
    images: Sequence[GeneratedImage],
    passing: Passing = DEFAULT_PASSING,
) -> PackSummary:
    """Return the pack's figures and verdict (`to_json()` for a job record).

    Raises NoSelfieFaceError when no selfie shows a face (the gate lets no such set through).
    """
    return evaluate(faces, selfies, pack_images(images), passing).summary
