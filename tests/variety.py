"""The gate's calibration set: the shipped portraits varied in code, each copy named.

Framings (tight crop to upper body in a wide frame), rotations, perspective tilts, scales, JPEG
qualities, and relighting: a bright window behind the person, a dim room, a flash. Used by the
gate's tests and by bench/calibrate_gate.py, which prints the range of every measure per kind.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tests import photos

Box = tuple[float, float, float]  # face centre x, centre y and side in pixels
Variant = Callable[[Image.Image, Box], Image.Image]


def portraits() -> dict[str, Image.Image]:
    """Return the shipped frontal portraits by name."""
    return {"astronaut": photos.astronaut(), "grace": photos.grace_hopper()}


def framed(scale: float) -> Variant:
    """Return a square crop `scale` face sides wide, or the photo in a wider frame (> 4)."""

    def make(image: Image.Image, box: Box) -> Image.Image:
        cx, cy, side = box
        half = side * scale / 2
        if scale <= 4:
            return image.crop((int(cx - half), int(cy - half), int(cx + half), int(cy + half)))
        width, height = int(side * scale), int(side * scale * 1.25)
        canvas = Image.new("RGB", (width, height), (96, 104, 112))
        canvas.paste(image, (int(width / 2 - cx), int(height * 0.3 - cy)))
        return canvas

    return make


def rotated(degrees: float) -> Variant:
    """Return the photo rotated in the image plane (a tilted head: roll)."""
    return lambda image, _: image.rotate(degrees, expand=True, fillcolor=(120, 120, 120))


def tilted(dx: float, dy: float) -> Variant:
    """Return a perspective tilt: one side (dx) or the top (dy) pushed away from the camera."""

    def make(image: Image.Image, _: Box) -> Image.Image:
        rgb = photos.as_array(image)
        h, w = rgb.shape[:2]
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
        corners = [[w * dy, h * dx], [w * (1 - dy), 0], [w, h], [0, h * (1 - dx)]]
        dst = np.array(corners, dtype=np.float32)
        matrix = cv2.getPerspectiveTransform(src, dst)
        warped = cv2.warpPerspective(rgb, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
        return Image.fromarray(warped)

    return make


def scaled(factor: float) -> Variant:
    """Return the photo resized by `factor`."""
    return lambda image, _: image.resize(
        (round(image.width * factor), round(image.height * factor))
    )


def jpeg(quality: int) -> Variant:
    """Return the photo after one JPEG round trip at `quality`."""
    return lambda image, _: Image.open(io.BytesIO(photos.to_bytes(image, quality=quality)))


def window_behind(glow: float, spread: float = 0.12) -> Variant:
    """Return the person dimmed in front of a bright window whose light glows around the rim.

    A strong `glow` clips the edges of the face as well: backlight that looks like overexposure
    to a measure of clipped pixels alone.
    """

    def make(image: Image.Image, box: Box) -> Image.Image:
        rgb = photos.as_array(image).astype(np.float32)
        person = _person_mask(rgb.shape[:2], box)
        rim = cv2.GaussianBlur(1 - person, (0, 0), box[2] * spread)
        lit = rgb * 0.4 + glow * rim[..., None]
        window = np.minimum(rgb * 0.25 + 215, 255)
        return _image(lit * person[..., None] + window * (1 - person[..., None]))

    return make


def dim_room(image: Image.Image, _: Box) -> Image.Image:
    """Return the whole photo underexposed (a dim room), with sensor noise."""
    rgb = photos.as_array(image).astype(np.float32) * 0.22
    noise = np.random.default_rng(7).normal(0, 2.5, rgb.shape)
    return _image(rgb + noise)


def flash(image: Image.Image, box: Box) -> Image.Image:
    """Return an on-camera flash: the face blown out, the room behind it falling off."""
    rgb = photos.as_array(image).astype(np.float32)
    h, w = rgb.shape[:2]
    ys, xs = np.mgrid[:h, :w]
    cx, cy, side = box
    falloff = np.exp(-(((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * (side * 1.1) ** 2)))
    gain = 0.7 + 1.1 * falloff
    return _image(rgb * gain[..., None] + 40 * falloff[..., None])


def group_photo(people: int, columns: int, cell_px: int) -> Image.Image:
    """Return `people` portraits in a grid, `columns` wide, each `cell_px` wide (a group shot)."""
    shots = [*photos.shots_of(photos.astronaut())[:2], *photos.shots_of(photos.grace_hopper())]
    cell_h = int(cell_px * 1.15)
    rows = -(-people // columns)
    canvas = Image.new("RGB", (columns * cell_px, rows * cell_h), (110, 110, 110))
    for n in range(people):
        shot = shots[n % len(shots)].resize((cell_px, cell_h))
        canvas.paste(shot, ((n % columns) * cell_px, (n // columns) * cell_h))
    return canvas


def _person_mask(shape: tuple[int, ...], box: Box) -> NDArray[np.float32]:
    height, width = shape
    ys, xs = np.mgrid[:height, :width]
    cx, cy, side = box
    radius = side * 0.85
    head = ((xs - cx) / radius) ** 2 + ((ys - cy) / (radius * 1.3)) ** 2 < 1
    body = (ys > cy + side * 0.5) & (np.abs(xs - cx) < side * 1.3)
    return np.asarray(head | body, dtype=np.float32)


def _image(values: NDArray[np.floating]) -> Image.Image:  # type: ignore[type-arg]
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))


VARIANTS: dict[str, dict[str, Variant]] = {
    "framing": {f"x{s}": framed(s) for s in (1.4, 2.0, 3.0, 5.0, 7.0)},
    "rotation": {f"{d:+d}deg": rotated(d) for d in (-12, -6, 6, 12)},
    "tilt": {
        "side 0.08": tilted(0.08, 0.0),
        "side 0.15": tilted(0.15, 0.0),
        "top 0.08": tilted(0.0, 0.08),
        "top 0.15": tilted(0.0, 0.15),
    },
    "scale": {f"x{f}": scaled(f) for f in (0.75, 1.5, 2.5)},
    "jpeg": {f"q{q}": jpeg(q) for q in (30, 50, 75)},
    "light": {
        "window behind": window_behind(60),
        "window glare": window_behind(420, 0.35),
        "dim room": dim_room,
        "flash": flash,
    },
}


def calibration_set(
    face_box: Callable[[Image.Image], Box],
) -> Iterator[tuple[str, str, Image.Image]]:
    """Yield (kind, name, image) for every variant of every portrait, originals first."""
    for person, image in portraits().items():
        yield "original", person, image
        box = face_box(image)
        for kind, variants in VARIANTS.items():
            for name, make in variants.items():
                yield kind, f"{person} {name}", make(image.copy(), box)
