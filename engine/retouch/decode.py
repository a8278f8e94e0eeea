"""Decode a photo file into an upright RGB array, at a reduced scale when the file allows."""

from __future__ import annotations

import io
import warnings

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.retouch.options import RetouchError

MAX_PIXELS = 60_000_000
Rgb = NDArray[np.uint8]


def decode_rgb(data: bytes, min_side: int = 1400) -> Rgb:
    """Return the photo as an upright RGB array whose short side stays at least `min_side`."""
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise RetouchError("the photo has too many pixels; send one under 60 megapixels")
            _draft(image, min_side)
            upright = ImageOps.exif_transpose(image)
            return np.asarray(upright.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombWarning) as exc:
        raise RetouchError("this file is not a photo I can read; send a JPEG, PNG or HEIC") from exc


def _draft(image: Image.Image, min_side: int) -> None:
    # JPEG can decode at 1/2, 1/4 or 1/8 scale almost for free; keep enough pixels for the frame.
    short = min(image.size)
    if image.format != "JPEG" or short <= min_side:
        return
    scale = min_side / short
    image.draft("RGB", (int(image.width * scale) + 1, int(image.height * scale) + 1))


def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - pillow-heif is a dependency
        return
    register_heif_opener()
