"""Light and colour: exposure and white balance measured on the face, gentle local contrast."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

Float = NDArray[Any]  # cv2's stubs type every array loosely
TARGET_L = 66.0  # Lab lightness of well-exposed skin in a studio portrait
# Mean Lab chroma of skin across tones sits near a=+13, b=+17; a cast pushes it off that line.
SKIN_A, SKIN_B = 13.0, 17.0
MAX_GAIN = 1.8
MAX_SHIFT = 8.0
MONO_CHROMA = 4.0  # Lab chroma under which a photo counts as black and white


def correct_light(rgb: Float, skin: Float, exposure: float, white_balance: float) -> Float:
    """Return `rgb` with the face's brightness and colour cast moved toward a studio look."""
    weight = skin > 0.5
    if weight.sum() < 50 or (exposure <= 0 and white_balance <= 0):
        return rgb
    lab = cv2.cvtColor((rgb / 255.0).astype(np.float32), cv2.COLOR_RGB2Lab)
    mean_l, mean_a, mean_b = (float(np.median(lab[..., i][weight])) for i in range(3))
    if _is_monochrome(lab):
        white_balance = 0.0  # a black-and-white photo has no cast to correct: keep it grey
    gain = _exposure_gain(mean_l, exposure)
    shift_a = float(np.clip((SKIN_A - mean_a) * white_balance, -MAX_SHIFT, MAX_SHIFT))
    shift_b = float(np.clip((SKIN_B - mean_b) * white_balance, -MAX_SHIFT, MAX_SHIFT))
    balanced = _cast_gains(mean_l, mean_a, mean_b, shift_a, shift_b)
    return _apply_gains(rgb, gain * balanced)


def local_contrast(rgb: Float, strength: float) -> Float:
    """Lift mid-scale detail (a large-radius unsharp mask on lightness) by `strength`."""
    if strength <= 0:
        return rgb
    h, w = rgb.shape[:2]
    luma: Float = rgb @ np.asarray([0.299, 0.587, 0.114], dtype=np.float32)
    small = cv2.resize(luma, (w // 8, h // 8), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), max(w, h) / 8 / 40)
    base = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    detail = np.clip(luma - base, -40.0, 40.0)
    return np.asarray(np.clip(rgb + (strength * detail)[..., None], 0, 255), dtype=np.float32)


def _is_monochrome(lab: Float) -> bool:
    chroma = np.hypot(lab[::8, ::8, 1], lab[::8, ::8, 2])
    return bool(np.percentile(chroma, 95) < MONO_CHROMA)


def _exposure_gain(mean_l: float, strength: float) -> float:
    # Work in linear light: Lab L is roughly the cube root of luminance.
    current = ((mean_l + 16) / 116) ** 3
    target = ((TARGET_L + 16) / 116) ** 3
    gain = (target / max(current, 1e-4)) ** strength
    return float(np.clip(gain, 1 / MAX_GAIN, MAX_GAIN))


def _cast_gains(light: float, a: float, b: float, da: float, db: float) -> Float:
    before = _lab_to_linear_rgb(light, a, b)
    after = _lab_to_linear_rgb(light, a + da, b + db)
    return np.asarray(np.clip(after / np.maximum(before, 1e-4), 0.7, 1.4), dtype=np.float32)


def _lab_to_linear_rgb(light: float, a: float, b: float) -> Float:
    lab = np.asarray([[[light, a, b]]], dtype=np.float32)
    rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)[0, 0]
    return _to_linear(np.clip(rgb, 1e-3, 1.0) * 255.0)


def _to_linear(rgb: Float) -> Float:
    x = np.clip(rgb / 255.0, 0.0, 1.0)
    return np.asarray(np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4), np.float32)


def _apply_gains(rgb: Float, gains: Float) -> Float:
    # Per-channel gains in linear light are per-channel curves in sRGB: apply them as lookups.
    levels = np.arange(256, dtype=np.float32)
    linear = _to_linear(levels)
    table = np.stack([_from_linear(_shoulder(linear * float(g), float(g))) for g in gains], axis=-1)
    lut = np.clip(table + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)
    quantised = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    return np.asarray(cv2.LUT(quantised, lut), dtype=np.float32)


def _shoulder(x: Float, top: float, knee: float = 0.7) -> Float:
    # Roll highlights that a gain above 1 would clip into the range left above the knee.
    if top <= 1.0:
        return x
    power = (top - knee) / (1 - knee)  # keeps the slope continuous at the knee
    t = np.clip((x - knee) / (top - knee), 0.0, 1.0)
    rolled = knee + (1 - knee) * (1 - (1 - t) ** power)
    return np.asarray(np.where(x > knee, rolled, x), np.float32)


def _from_linear(linear: Float) -> Float:
    x = np.clip(linear, 0.0, 1.0)
    srgb = np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055)
    return np.asarray(srgb * 255.0, dtype=np.float32)
