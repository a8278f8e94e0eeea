"""The retouch inside a process pool: one Retoucher per process, plain bytes in and out.

Importing this module loads nothing heavy, so the bot process can hand these functions to a
`ProcessPoolExecutor` (spawn context) by reference: use `warm_up` as the initializer, then e.g.
`await loop.run_in_executor(pool, worker.retouch, data, "grey", "1:1", "#0A66C2")`.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.retouch.options import RetouchOptions
    from engine.retouch.retoucher import Retoucher

DEFAULT_BRAND = "#0A66C2"


def build_retoucher(options: RetouchOptions | None = None) -> Retoucher:
    """Load the face and segmentation models and return a Retoucher that holds them."""
    import mediapipe as mp

    from engine.faces import FaceAnalyzer
    from engine.retouch.retoucher import Retoucher

    segmenter = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
    return Retoucher(FaceAnalyzer(), segmenter, options)


@cache
def _process_retoucher(brand_colour: str) -> Retoucher:
    from engine.retouch.options import RetouchOptions

    return build_retoucher(RetouchOptions(brand_colour=brand_colour))


def warm_up(brand_colour: str = DEFAULT_BRAND) -> None:
    """Load this process's models now (a pool initializer)."""
    _process_retoucher(brand_colour)


def retouch(
    data: bytes, background: str = "grey", aspect: str = "1:1", brand_colour: str = DEFAULT_BRAND
) -> bytes:
    """Return the retouched headshot JPEG of one photo, with this process's models."""
    return _process_retoucher(brand_colour).retouch(data, background=background, aspect=aspect)


def profile_kit(headshot: bytes, name: str, title: str, brand_colour: str) -> dict[str, bytes]:
    """Return the profile kit of a headshot, framed on the face this process finds in it."""
    return _process_retoucher(brand_colour).profile_kit(
        headshot, name=name, title=title, brand_colour=brand_colour
    )
