"""Studio backgrounds: grey and dark gradients, white, a brand colour, or the blurred original."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.retouch.options import RetouchError

Float = NDArray[Any]  # cv2's stubs type every array loosely
NAMES = ("grey", "white", "dark", "blur", "brand")
_HEX = re.compile(r"#?([0-9a-fA-F]{6})")
# (colour behind the head, colour at the corners): a soft key light on a studio backdrop.
GRADIENTS = {
    "grey": ((178, 180, 183), (104, 106, 110)),
    "dark": ((66, 68, 73), (24, 25, 28)),
}


def parse_colour(text: str) -> tuple[int, int, int]:
    """Return the RGB triple of "#RRGGBB" (the "#" is optional)."""
    match = _HEX.fullmatch(text.strip())
    if not match:
        raise RetouchError(f"{text!r} is not a colour; write it as #RRGGBB, e.g. #0A66C2")
    value = match.group(1)
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def check_spec(spec: str) -> str:
    """Return `spec` normalised, or raise if it names no background."""
    spec = spec.strip().lower()
    if spec in NAMES:
        return spec
    try:
        parse_colour(spec)
    except RetouchError:
        names = "|".join(NAMES)
        raise RetouchError(f"unknown background {spec!r}; use {names} or #RRGGBB") from None
    return spec


def canvas(spec: str, width: int, height: int, brand_colour: str = "#0A66C2") -> Float:
    """Return the backdrop for a named or hex background (not "blur") as float RGB in 0..255."""
    spec = check_spec(spec)
    if spec == "blur":
        raise RetouchError("the blurred background is made from the photo; use blurred_backdrop")
    if spec in GRADIENTS:
        return _radial(spec, width, height).copy()
    if spec == "white":
        colour = (255, 255, 255)
    else:
        colour = parse_colour(brand_colour if spec == "brand" else spec)
    return np.full((height, width, 3), colour, dtype=np.float32)


def blurred_backdrop(rgb: Float, alpha: Float, sigma_frac: float = 0.02) -> Float:
    """Return the photo's own background, blurred, with the person filled in from around them."""
    h, w = alpha.shape
    small = _fill_small(rgb, alpha, scale=0.125)
    soft = cv2.GaussianBlur(small, (0, 0), max(1.0, sigma_frac * small.shape[1]))
    return cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)


def fill_behind(rgb: Float, alpha: Float, *, scale: float = 0.25) -> Float:
    """Estimate the background behind the person by a push-pull fill of the visible rest."""
    small = _fill_small(rgb, alpha, scale=scale)
    return cv2.resize(small, (alpha.shape[1], alpha.shape[0]), interpolation=cv2.INTER_LINEAR)


def _fill_small(rgb: Float, alpha: Float, *, scale: float) -> Float:
    h, w = alpha.shape
    size = (max(8, int(w * scale)), max(8, int(h * scale)))
    weight = cv2.resize(np.clip(1.0 - alpha, 0.0, 1.0) ** 2, size, interpolation=cv2.INTER_AREA)
    colour = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) * weight[..., None]
    return push_pull(colour, weight)


def push_pull(colour: Float, weight: Float) -> Float:
    """Fill where `weight` is low from the weighted `colour` (premultiplied) around it."""
    levels = [(colour, weight)]
    while min(levels[-1][1].shape) > 8:
        c, wt = levels[-1]
        levels.append((cv2.pyrDown(c), cv2.pyrDown(wt)))
    c, wt = levels[-1]
    estimate = c.sum(axis=(0, 1)) / max(float(wt.sum()), 1e-4) + 0 * c
    for c, wt in reversed(levels):
        up = cv2.resize(estimate, (wt.shape[1], wt.shape[0]), interpolation=cv2.INTER_LINEAR)
        trust = np.clip(wt * 4.0, 0.0, 1.0)[..., None]
        own = c / np.maximum(wt, 1e-4)[..., None]
        estimate = own * trust + up * (1.0 - trust)
    return np.asarray(estimate, dtype=np.float32)


@lru_cache(maxsize=8)
def _radial(name: str, width: int, height: int) -> Float:
    centre, edge = GRADIENTS[name]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dx = (xs - 0.5 * width) / (0.75 * width)
    dy = (ys - 0.38 * height) / (0.75 * height)
    t = np.clip(np.sqrt(dx * dx + dy * dy), 0.0, 1.0) ** 1.5
    inner = np.asarray(centre, dtype=np.float32)
    outer = np.asarray(edge, dtype=np.float32)
    out = inner + (outer - inner) * t[..., None]
    # A fixed ordered dither keeps the smooth gradient from banding after JPEG.
    dither = ((xs.astype(np.int32) * 7 + ys.astype(np.int32) * 13) % 16) / 16.0 - 0.5
    return np.asarray(out + dither[..., None] * 0.9, dtype=np.float32)
