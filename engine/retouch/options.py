"""Strengths, output sizes and errors of the instant retouch."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import HeadshotsError


class RetouchError(HeadshotsError):
    """A photo cannot be retouched; the message says why in words a person understands."""


class NoFaceError(RetouchError):
    """No face was found in the photo."""


@dataclass(frozen=True)
class Aspect:
    """An output frame: its size in pixels and where the eyes' line sits."""

    width: int
    height: int
    eye_line: float  # fraction of the height from the top
    face_scale: float  # eye-to-chin distance as a fraction of the width


ASPECTS = {
    "1:1": Aspect(1024, 1024, eye_line=0.38, face_scale=0.20),
    "4:5": Aspect(1080, 1350, eye_line=0.33, face_scale=0.19),
}


@dataclass(frozen=True)
class RetouchOptions:
    """Every effect's strength; 0 turns an effect off, the defaults look natural."""

    exposure: float = 0.7  # share of the way to the target face brightness
    white_balance: float = 0.5  # share of the way to a neutral skin tone
    local_contrast: float = 0.25
    skin_smoothing: float = 0.35
    sharpen: float = 0.6
    feather_px: float = 1.5  # matte softening at 1024 px
    level_eyes: float = 1.0  # share of the head tilt removed (up to max_level_deg)
    max_level_deg: float = 12.0
    max_extension: float = 0.10  # background extension allowed per side, share of the frame
    brand_colour: str = "#0A66C2"
    jpeg_quality: int = 92


def aspect_of(name: str) -> Aspect:
    """Return the output frame for "1:1" or "4:5"."""
    try:
        return ASPECTS[name]
    except KeyError:
        raise RetouchError(f"unknown aspect {name!r}; use one of {', '.join(ASPECTS)}") from None
