"""Real photos that ship inside installed packages, and helpers to make test files from them.

astronaut (Eileen Collins) and cameraman from scikit-image, Grace Hopper from matplotlib, and the
cat `chelsea` as a photo with no human face. Nothing is downloaded.
"""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import numpy as np
from matplotlib import cbook
from PIL import Image, ImageOps
from skimage import data


@cache
def _astronaut() -> Image.Image:
    return Image.fromarray(data.astronaut())


@cache
def _grace_hopper() -> Image.Image:
    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    with Image.open(str(path)) as image:
        return image.convert("RGB")


@cache
def _camera() -> Image.Image:
    return Image.fromarray(data.camera()).convert("RGB")


@cache
def _chelsea() -> Image.Image:
    return Image.fromarray(data.chelsea())


def astronaut() -> Image.Image:
    """Return a fresh copy of scikit-image's astronaut (512x512, one frontal face)."""
    return _astronaut().copy()


def grace_hopper() -> Image.Image:
    """Return a fresh copy of matplotlib's Grace Hopper portrait (512x600)."""
    return _grace_hopper().copy()


def camera() -> Image.Image:
    """Return a fresh copy of scikit-image's cameraman, as RGB (512x512)."""
    return _camera().copy()


def chelsea() -> Image.Image:
    """Return a fresh copy of scikit-image's cat (no human face)."""
    return _chelsea().copy()


def to_bytes(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    """Encode `image` as a file of format `fmt` (JPEG quality 92 unless given)."""
    if fmt == "JPEG":
        options.setdefault("quality", 92)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def as_array(image: Image.Image) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """Return the image as an RGB uint8 array."""
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def shots_of(image: Image.Image) -> list[Image.Image]:
    """Return four shots of one person that the gate takes as distinct photos, not copies.

    The original, mirrored, widened and heightened: their aligned faces hash 20-30 bits apart
    (copies: 8 or less) while dlib still reads one person (descriptor distance 0.19-0.41).
    """
    width, height = image.size
    return [
        image,
        ImageOps.mirror(image),
        image.resize((round(width * 1.3), height)),
        image.resize((width, round(height * 1.3))),
    ]
