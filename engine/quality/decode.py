"""Safe decoding of what people send: limits first, EXIF orientation, reduced-scale decode."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.quality.report import N_, QualityError, words
from engine.quality.thresholds import Thresholds

PHOTO_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "HEIF", "AVIF"})
MULTI_FRAME_OK = frozenset({"MPO", "HEIF", "AVIF"})  # extra frames: depth maps, previews, bursts


@dataclass(frozen=True, eq=False)
class Decoded:
    """An upright RGB photo at analysis size, with the size of the original file's pixels."""

    rgb: NDArray[np.uint8]
    original_size: tuple[int, int]  # (width, height) after EXIF orientation
    format: str
    data: bytes = field(default=b"", repr=False)  # the file, for `detail_pixels`

    @property
    def scale(self) -> float:
        """Return original pixels per analysis pixel (>= 1)."""
        return self.original_size[0] / self.rgb.shape[1]


def decode(data: bytes, limits: Thresholds) -> Decoded:
    """Decode a photo file into an upright RGB array no larger than `limits.analysis_px`."""
    if len(data) > limits.max_bytes:
        over = words(
            N_("The file is over {mb} MB. Send a smaller photo."), mb=round(limits.max_bytes / 1e6)
        )
        raise QualityError("too_large", over)
    _register_heif()
    image = _open(data)
    _check_kind(image, limits)
    try:
        return _load(image, data, limits)
    except (OSError, SyntaxError, ValueError) as exc:
        raise QualityError("unreadable", words(_BROKEN)) from exc


def detail_pixels(photo: Decoded, face_px: float, limits: Thresholds) -> NDArray[np.uint8] | None:
    """Return the photo decoded large enough for a `face_px` face to reach `detail_face_px`.

    None when the analysis pixels already hold the face at that size, or the file has no more.
    The same decoder makes both, so the two are the same photo, upright, at two sizes.
    """
    if face_px >= limits.detail_face_px or photo.scale <= 1.0 or not photo.data:
        return None
    longest = max(photo.rgb.shape[:2]) * min(limits.detail_face_px / face_px, photo.scale)
    larger = replace(limits, analysis_px=round(longest), draft_px=round(longest))
    return decode(photo.data, larger).rgb


_BROKEN = N_("The file looks damaged or cut short. Send the photo again.")
_FORMATS = N_("That isn't a photo I can read. Send a JPEG, PNG, WebP or HEIC photo.")


def _open(data: bytes) -> Image.Image:
    if not data:
        raise QualityError("unreadable", words(N_("The file is empty. Send the photo again.")))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise QualityError("too_large", words(_TOO_MANY_PIXELS)) from exc
        except UnidentifiedImageError as exc:
            raise QualityError("unsupported_format", words(_FORMATS)) from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise QualityError("unreadable", words(_BROKEN)) from exc


_TOO_MANY_PIXELS = N_("The photo has too many pixels. Send a regular camera or phone photo.")


def _check_kind(image: Image.Image, limits: Thresholds) -> None:
    fmt = image.format or ""
    frames = getattr(image, "n_frames", 1)
    if fmt not in PHOTO_FORMATS and frames > 1:
        raise QualityError("unsupported_format", words(_ANIMATIONS))
    if fmt not in PHOTO_FORMATS:
        raise QualityError("unsupported_format", words(_NOT_A_PHOTO, format=fmt or "this"))
    if frames > 1 and fmt not in MULTI_FRAME_OK:
        raise QualityError("unsupported_format", words(_STILL))
    width, height = image.size
    if width * height > limits.max_pixels:
        raise QualityError("too_large", words(_TOO_MANY_PIXELS))
    if min(width, height) < limits.min_side_px:
        tiny = words(_TOO_FEW_PIXELS, size=f"{width}x{height}")
        raise QualityError("low_resolution", tiny)


_ANIMATIONS = N_("I can't use animations. Send a JPEG, PNG, WebP or HEIC photo.")
_NOT_A_PHOTO = N_("I can't use {format} files. Send a JPEG, PNG, WebP or HEIC photo.")
_STILL = N_("Send a still photo, not an animation.")
_TOO_FEW_PIXELS = N_("The photo is only {size} pixels. Send the original, full-size photo.")


def _load(image: Image.Image, data: bytes, limits: Thresholds) -> Decoded:
    fmt = image.format or ""
    full = _upright_size(image)
    fast = _jpeg_pixels(data, image.size, limits.draft_px) if fmt in {"JPEG", "MPO"} else None
    if fast is not None:
        return Decoded(_shrunk(fast, limits.analysis_px), full, fmt, data)
    if fmt in {"JPEG", "MPO"}:
        # JPEG decodes at 1/2, 1/4 or 1/8 scale for almost free; keep at least draft_px.
        image.draft("RGB", _draft_request(image.size, limits.draft_px))
    if image.getexif().get(0x0112, 1) != 1:
        image = ImageOps.exif_transpose(image)
    rgb = np.asarray(_to_rgb(image), dtype=np.uint8)
    return Decoded(_shrunk(rgb, limits.analysis_px), full, fmt, data)


_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
            (2, cv2.IMREAD_REDUCED_COLOR_2))  # fmt: skip


def _jpeg_pixels(data: bytes, size: tuple[int, int], draft_px: int) -> NDArray[np.uint8] | None:
    """Return a whole JPEG, upright, at the smallest 1/2-1/8 scale keeping `draft_px`, or None.

    OpenCV decodes straight into an array and applies the EXIF orientation itself; Pillow's
    route spends ~6 ms of a 1280 px photo just copying its pixels into numpy. A file without its
    end marker goes Pillow's way, which reports it as damaged instead of filling it with grey.
    """
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return None
    flag = next((f for n, f in _REDUCED if max(size) / n >= draft_px), cv2.IMREAD_COLOR)
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flag)
    if bgr is None:
        return None
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def _shrunk(rgb: NDArray[np.uint8], longest: int) -> NDArray[np.uint8]:
    """Return the photo with its long side at most `longest` px.

    OpenCV, not Pillow's thumbnail: for a 1280 px chat photo Pillow's antialiased bilinear takes
    ~23 ms of the gate's budget and OpenCV's bilinear ~2 ms. Above a 2x reduction plain bilinear
    would alias, so INTER_AREA (~11 ms) takes over there.
    """
    height, width = rgb.shape[:2]
    factor = longest / max(height, width)
    if factor >= 1:
        return rgb
    size = (max(round(width * factor), 1), max(round(height * factor), 1))
    method = cv2.INTER_LINEAR if factor >= 0.5 else cv2.INTER_AREA
    return np.asarray(cv2.resize(rgb, size, interpolation=method), dtype=np.uint8)


def _draft_request(size: tuple[int, int], target: int) -> tuple[int, int]:
    width, height = size
    shrink = max(max(width, height) / target, 1.0)
    return (max(int(width / shrink), 1), max(int(height / shrink), 1))


def _upright_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    orientation = image.getexif().get(0x0112, 1)
    return (height, width) if orientation in {5, 6, 7, 8} else (width, height)


def _to_rgb(image: Image.Image) -> Image.Image:
    image.load()
    mode = image.mode
    if mode in {"I;16", "I;16B", "I;16L", "I"}:
        wide = np.asarray(image, dtype=np.uint32)
        image = Image.fromarray((wide >> 8).clip(0, 255).astype(np.uint8)).convert("RGB")
    elif mode in {"RGBA", "LA", "PA"} or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image if image.mode == "RGB" else image.convert("RGB")


def _register_heif() -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()
