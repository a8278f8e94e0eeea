"""Per-photo checks: turn one face's measurements into findings with codes and fixes."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from engine.quality.report import N_, Finding, Verdict, words
from engine.quality.thresholds import Thresholds

REJECTED, WARNING = Verdict.REJECTED, Verdict.WARNING


@dataclass(frozen=True)
class FaceMeasures:
    """Everything measured on the main face of a photo (see `engine.quality.measures`)."""

    faces: int  # faces big enough to count; small background faces are left out
    faces_sure: bool  # False when a second look found a different number (say "several")
    face_fraction: float  # face box side / the image's shorter side
    face_px: float  # face box side in the original file's pixels
    outside: float  # share of the face (box or mesh, the larger) outside the frame
    yaw: float
    pitch: float
    roll: float
    sharpness: float
    brightness: float
    clipped: float
    backlight: float  # background brightness / face brightness
    eye_openness: float
    eye_visibility: float

    def scores(self) -> dict[str, float]:
        """Return the measurements as a plain dict of rounded floats."""
        return {name: round(float(value), 3) for name, value in asdict(self).items()}


def photo_findings(m: FaceMeasures, t: Thresholds) -> list[Finding]:
    """Return every problem with the photo, in the order a person should fix them."""
    return [
        *_faces(m),
        *_framing(m, t),
        *_pose(m, t),
        *_light(m, t),
        *_sharpness(m, t),
        *_eyes(m, t),
    ]


def _faces(m: FaceMeasures) -> list[Finding]:
    if m.faces <= 1:
        return []
    # A wrong number reads as careless; "several" is true whenever the two looks disagree.
    if m.faces_sure:
        message = words(
            N_("I see {count} people. Send a photo with only you in it, or crop the others out."),
            count=m.faces,
        )
    else:
        message = words(
            N_("I see several people. Send a photo with only you in it, or crop the others out.")
        )
    return [Finding("multiple_faces", message, REJECTED, float(m.faces))]


CUT_OFF = N_("Your face is cut off by the edge. Keep your whole head inside the frame.")
TOO_SMALL = N_(
    "Your face is too small. Move closer or crop the photo so your face fills more of it."
)
SMALL = N_("Your face is small. Move closer or crop the photo so your face fills more of it.")
FEW_PIXELS = N_(
    "Your face is only {px} pixels wide. Send the original full-size photo or take one closer up."
)


def _framing(m: FaceMeasures, t: Thresholds) -> list[Finding]:
    found = []
    if m.outside > t.max_outside:
        found.append(Finding("face_cut_off", words(CUT_OFF), REJECTED, m.outside))
    if m.face_fraction < t.min_face_fraction:
        found.append(Finding("face_too_small", words(TOO_SMALL), REJECTED, m.face_fraction))
    elif m.face_fraction < t.warn_face_fraction:
        found.append(Finding("face_too_small", words(SMALL), WARNING, m.face_fraction))
    px = words(FEW_PIXELS, px=round(m.face_px))
    if m.face_px < t.min_face_px:
        found.append(Finding("low_resolution", px, REJECTED, m.face_px))
    elif m.face_px < t.warn_face_px:
        found.append(Finding("low_resolution", px, WARNING, m.face_px))
    return found


def _pose(m: FaceMeasures, t: Thresholds) -> list[Finding]:
    if abs(m.roll) > 60:
        return [Finding("head_turned", words(SIDEWAYS), REJECTED, m.roll)]
    found = []
    for value, most, warn, message in (
        (m.yaw, t.max_yaw, t.warn_yaw, N_("Your head is turned to the side. Face the camera.")),
        (m.pitch, t.max_pitch, t.warn_pitch, N_("Your chin is too far up or down. Look straight.")),
        (m.roll, t.max_roll, t.warn_roll, N_("Your head is tilted. Keep it level.")),
    ):
        if abs(value) > most:
            found.append(Finding("head_turned", words(message), REJECTED, value))
        elif abs(value) > warn:
            found.append(Finding("head_turned", words(message), WARNING, value))
    return found[:1]


SIDEWAYS = N_("The photo is sideways. Rotate it upright and send it again.")
BACKLIT = N_("The light is behind you. Turn to face the window or lamp so it lights your face.")
TOO_DARK = N_("The photo is too dark. Face a window or a lamp and take it again.")
DIM = N_("The photo is dark. Face a window or a lamp and take it again.")
WASHED_OUT = N_("Your face is washed out. Avoid direct sun and flash; soft daylight is best.")


def _light(m: FaceMeasures, t: Thresholds) -> list[Finding]:
    """Return at most one light finding: backlight, else overexposure, else underexposure.

    One, because the fixes differ and contradict: a backlit face is dark and its rim may clip,
    yet the fix is to turn round, not to dim the light or add more.
    """
    if m.backlight > t.warn_backlit_ratio and m.brightness < t.backlit_face_below:
        bad = m.backlight > t.backlit_ratio or m.brightness < t.min_brightness
        return [Finding("backlit", words(BACKLIT), REJECTED if bad else WARNING, m.backlight)]
    if m.clipped > t.max_clipped or m.brightness > t.max_brightness:
        return [Finding("overexposed", words(WASHED_OUT), REJECTED, m.clipped)]
    if m.clipped > t.warn_clipped:
        return [Finding("overexposed", words(WASHED_OUT), WARNING, m.clipped)]
    if m.brightness < t.min_brightness:
        return [Finding("too_dark", words(TOO_DARK), REJECTED, m.brightness)]
    if m.brightness < t.warn_brightness:
        return [Finding("too_dark", words(DIM), WARNING, m.brightness)]
    return []


BLURRY = N_(
    "The photo is blurry. Hold the phone steady, tap your face to focus, and wipe the lens."
)
SOFT = N_(
    "The photo is a little soft. Hold the phone steady, tap your face to focus, and wipe the lens."
)


def _sharpness(m: FaceMeasures, t: Thresholds) -> list[Finding]:
    if m.sharpness < t.min_sharpness:
        return [Finding("blurry", words(BLURRY), REJECTED, m.sharpness)]
    if m.sharpness < t.warn_sharpness:
        return [Finding("blurry", words(SOFT), WARNING, m.sharpness)]
    return []


EYES_HIDDEN = N_("Your eyes are hidden. Take off sunglasses and keep hair and hands off your eyes.")
EYES_CLOSED = N_("Your eyes look closed. Keep them open and take another one.")


def _eyes(m: FaceMeasures, t: Thresholds) -> list[Finding]:
    if m.eye_visibility < t.min_eye_visibility:
        return [Finding("eyes_hidden", words(EYES_HIDDEN), REJECTED, m.eye_visibility)]
    if m.eye_openness < t.min_eye_openness:
        return [Finding("eyes_closed", words(EYES_CLOSED), REJECTED, m.eye_openness)]
    return []
