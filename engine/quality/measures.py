"""Measurements of one face in one photo: pose, sharpness, light, eyes. Numbers, no verdicts."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.faces import (
    CHIN,
    FOREHEAD,
    LEFT_CHEEK,
    LEFT_EYE_RING,
    RIGHT_CHEEK,
    RIGHT_EYE_RING,
    FaceBox,
    Landmarks,
)

RGB = NDArray[np.uint8]
Gray = NDArray[np.float32]

# Eyelid and corner points of each eye: (upper lid, lower lid, outer corner, inner corner).
RIGHT_LIDS = ((159, 145), (158, 153), (160, 144), 33, 133)
LEFT_LIDS = ((386, 374), (385, 380), (387, 373), 263, 362)
RIGHT_SKIN, LEFT_SKIN = (50, 101, 118), (280, 330, 347)  # cheek points below each eye
ALIGNED_PX = 128  # side of the aligned face crop the sharpness and light are measured on
# The mesh's forehead point sits behind its chin point on a level face: frontal astronaut, Grace
# Hopper and their copies read 8-12 degrees of pitch, so that much is taken off.
PITCH_OFFSET = 9.0


@dataclass(frozen=True)
class Pose:
    """Head rotation in degrees; 0 is a level face looking straight at the camera."""

    yaw: float
    pitch: float
    roll: float


def head_pose(marks: Landmarks) -> Pose:
    """Return yaw, pitch and roll from the mesh's cheek-to-cheek and forehead-to-chin axes."""
    pts = marks.points.astype(np.float64)
    across = pts[LEFT_CHEEK] - pts[RIGHT_CHEEK]
    down = pts[CHIN] - pts[FOREHEAD]
    across /= max(float(np.linalg.norm(across)), 1e-6)
    down -= across * float(down @ across)
    down /= max(float(np.linalg.norm(down)), 1e-6)
    roll = np.degrees(np.arctan2(across[1], across[0]))
    yaw = np.degrees(np.arcsin(np.clip(across[2], -1, 1)))
    pitch = np.degrees(np.arcsin(np.clip(down[2], -1, 1))) - PITCH_OFFSET
    return Pose(yaw=float(yaw), pitch=float(pitch), roll=float(roll))


def face_gray(aligned: RGB) -> Gray:
    """Return the inner face of an aligned crop (brows to chin, cheek to cheek) as grey levels."""
    size = aligned.shape[0]
    inner = aligned[int(size * 0.28) : int(size * 0.85), int(size * 0.25) : int(size * 0.75)]
    return np.asarray(cv2.cvtColor(inner, cv2.COLOR_RGB2GRAY), dtype=np.float32)


def sharpness(face: Gray) -> float:
    """Return fine detail over coarse detail (Laplacian energy at full over half scale).

    The ratio, not the raw Laplacian variance, because it barely moves with exposure or with
    how textured a face is, and falls steeply when the photo is blurred.
    """
    half = cv2.resize(face, (face.shape[1] // 2, face.shape[0] // 2), interpolation=cv2.INTER_AREA)
    fine = float(cv2.Laplacian(face, cv2.CV_32F).var())
    return fine / max(float(cv2.Laplacian(half, cv2.CV_32F).var()), 1e-3)


def brightness(face: Gray) -> tuple[float, float]:
    """Return the face's mean grey level and its share of clipped highlights."""
    return float(face.mean()), float((face >= 250).mean())


def photo_gray(rgb: RGB) -> NDArray[np.uint8]:
    """Return the whole photo in grey levels, made once for every measure that needs it."""
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def background_brightness(gray: NDArray[np.uint8], box: FaceBox) -> float:
    """Return the mean grey level of the image above and beside the head (the likely light)."""
    mask = np.ones(gray.shape, dtype=bool)
    cx, cy = box.center
    half = box.side * 0.9
    top, left = max(int(cy - half * 1.2), 0), max(int(cx - half), 0)
    mask[top:, left : max(int(cx + half), 0)] = False  # the head and the body below it
    mask[int(cy + box.side) :, :] = False  # lower frame: mostly body, clothes, desk
    return float(gray[mask].mean()) if mask.any() else float(gray.mean())


def eye_openness(marks: Landmarks) -> float:
    """Return the smaller eye's lid gap over its width (open ~0.25-0.35, closed < ~0.12)."""
    return min(_eye_ratio(marks, RIGHT_LIDS), _eye_ratio(marks, LEFT_LIDS))


def _eye_ratio(marks: Landmarks, lids: tuple[tuple[int, int] | int, ...]) -> float:
    pts = marks.points[:, :2].astype(np.float64)
    pairs = [p for p in lids if isinstance(p, tuple)]
    outer, inner = (p for p in lids if isinstance(p, int))
    gaps = [float(np.linalg.norm(pts[a] - pts[b])) for a, b in pairs]
    width = max(float(np.linalg.norm(pts[outer] - pts[inner])), 1e-6)
    return sum(gaps) / len(gaps) / width


def eye_visibility(gray: NDArray[np.uint8], marks: Landmarks) -> float:
    """Return how visible the better eye is: its contrast and brightness relative to the cheek.

    Open eyes show white sclera beside a dark iris (spread and mid-grey mean, ~0.4-0.5 of the
    cheek); sunglasses show a flat dark patch (~0.1).
    """
    values = []
    for ring, skin in ((RIGHT_EYE_RING, RIGHT_SKIN), (LEFT_EYE_RING, LEFT_SKIN)):
        eye = _patch(gray, marks.xy(ring))
        cheek = _patch(gray, marks.xy(skin))
        if eye.size and cheek.size:
            spread = float(eye.std(dtype=np.float64))
            values.append((spread + 0.5 * float(eye.mean())) / max(float(cheek.mean()), 8.0))
    return max(values, default=0.0)


def _patch(gray: NDArray[np.uint8], points: NDArray[np.float32]) -> NDArray[np.uint8]:
    """Return the pixels inside the bounding box of `points`, clipped to the image."""
    height, width = gray.shape
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + 1
    x0, x1 = np.clip([x0, x1], 0, width)
    y0, y1 = np.clip([y0, y1], 0, height)
    return gray[y0:y1, x0:x1]


def mesh_outside(marks: Landmarks, width: int, height: int) -> float:
    """Return the fraction of mesh points that fall outside the image."""
    xy = marks.xy()
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0) & (xy[:, 1] < height)
    return float(1.0 - inside.mean())


def light_balance(face: Gray) -> float:
    """Return (left half - right half) / mean of the face's grey level: the key light's side."""
    half = face.shape[1] // 2
    left, right = float(face[:, :half].mean()), float(face[:, half:].mean())
    return (left - right) / max((left + right) / 2, 1.0)


def outfit_colour(rgb: RGB, box: FaceBox) -> tuple[float, ...]:
    """Return the mean CIE Lab colour just below the chin, or () when it is out of the frame."""
    cx, cy = box.center
    top, bottom = int(cy + box.side * 0.9), int(cy + box.side * 1.5)
    left, right = max(int(cx - box.side * 0.6), 0), int(cx + box.side * 0.6)
    patch = rgb[max(top, 0) : bottom, left:right]
    if patch.size == 0 or patch.shape[0] < (bottom - top) // 3:
        return ()
    lab = cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2LAB).reshape(-1, 3)
    return tuple(round(float(v), 1) for v in lab.mean(axis=0))
