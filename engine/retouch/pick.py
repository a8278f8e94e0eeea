"""Pick the selfies worth retouching from the quality gate's scores."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Scored(Protocol):
    """What the gate's report offers: `face` is None when no usable face was found."""

    @property
    def face(self) -> Any: ...


def pick_best(candidates: Iterable[tuple[T, float | Scored]], n: int = 1) -> list[T]:
    """Return the `n` photos with the best gate quality, best first; faceless ones never."""
    scored = [(score_of(judged), index, photo) for index, (photo, judged) in enumerate(candidates)]
    usable = [item for item in scored if math.isfinite(item[0])]
    usable.sort(key=lambda item: (-item[0], item[1]))
    return [photo for _, _, photo in usable[: max(0, n)]]


def score_of(judged: float | Scored) -> float:
    """Return a quality score: the number itself, or the report's `face.quality`."""
    if isinstance(judged, int | float):
        return float(judged)
    face = getattr(judged, "face", None)
    quality = getattr(face, "quality", None)
    return float(quality) if quality is not None else -math.inf
