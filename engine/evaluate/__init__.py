"""Measure a pack: identity, near-copies and variety per image, per style and overall.

`summarize_pack` is the one call a worker or a bench needs; `headshots evaluate` (engine.evaluate.
cli) adds the table, report.png and report.json.

Names are imported on first use, so `engine.evaluate.command` (and `headshots --help`, and the
bot process that registers it) stays free of OpenCV and dlib until a pack is measured.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
        pack_images,
        summarize_pack,
    )

_HOMES = {
    "DEFAULT_PASSING": "engine.evaluate.measure",
    "Evaluation": "engine.evaluate.measure",
    "GroupSummary": "engine.evaluate.measure",
    "ImageResult": "engine.evaluate.measure",
    "NoSelfieFaceError": "engine.evaluate.measure",
    "PackImage": "engine.evaluate.measure",
    "PackSummary": "engine.evaluate.measure",
    "Passing": "engine.evaluate.measure",
    "evaluate": "engine.evaluate.measure",
    "pack_images": "engine.evaluate.measure",
    "summarize_pack": "engine.evaluate.measure",
}

__all__ = [
    "DEFAULT_PASSING",
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


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
