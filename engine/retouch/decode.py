"""Decode a photo file with the quality gate's own limits and refusals, at retouch size."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from engine.quality.decode import decode
from engine.quality.thresholds import DEFAULT_THRESHOLDS

# Long side kept: enough for a 1350 px frame cut from most of the photo; a 12 MP JPEG decodes
# at 1/2 scale (2000x1500) through Pillow's draft mode.
RETOUCH_PX = 2000


def decode_rgb(data: bytes, long_side: int = RETOUCH_PX) -> NDArray[np.uint8]:
    """Return the photo upright as RGB, its long side at most `long_side`.

    Raises the gate's `QualityError` (empty, damaged, too large, not a photo, too small).
    """
    limits = replace(DEFAULT_THRESHOLDS, analysis_px=long_side, draft_px=long_side)
    return decode(data, limits).rgb
