"""The person's matte: mediapipe selfie segmentation refined on the photo's own edges."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.retouch.background import fill_behind, push_pull

Float = NDArray[Any]  # cv2's stubs type every array loosely
WORK = 512  # the matte is solved at this size, then scaled up
BAND = 6  # half-width of the unsure band around the segmentation edge, at WORK size
OPAQUE = 0.998  # alpha above this shows the photo's pixel as it is
CHOKE = 0.15  # alpha below this is taken for background: upsampling spreads the edge outwards
CONTRAST = 60.0  # person/background colour distance at which colour alone decides
TIGHTEN = 2.5  # slope applied to the segmentation where colour cannot decide


def segment(segmenter: Any, rgb: NDArray[np.uint8]) -> Float:
    """Return the coarse person mask (0..1) of an RGB image; `segmenter` is mediapipe's."""
    result = segmenter.process(np.ascontiguousarray(rgb))
    mask = result.segmentation_mask
    if mask is None:
        return np.zeros(rgb.shape[:2], dtype=np.float32)
    return np.asarray(mask, dtype=np.float32)


def refine(rgb: Float, coarse: Float, feather_px: float) -> Float:
    """Snap the coarse mask to the photo's colours, keeping soft values along hair."""
    h, w = coarse.shape
    scale = WORK / max(h, w)
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    image = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    mask = cv2.resize(coarse, size, interpolation=cv2.INTER_AREA)
    fine = _colour_alpha(image, mask)
    fine = cv2.ximgproc.guidedFilter((image / 255.0).astype(np.float32), fine, 2, 1e-3)
    fine = np.clip((fine - CHOKE) / (1.0 - CHOKE), 0.0, 1.0)  # pull the edge off the background
    alpha = cv2.resize(fine, (w, h), interpolation=cv2.INTER_LINEAR)
    if feather_px > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), feather_px * max(h, w) / 1024)
    return np.asarray(np.clip(alpha, 0.0, 1.0), dtype=np.float32)


def _colour_alpha(image: Float, mask: Float) -> Float:
    # In the band where the segmentation is unsure, read alpha off where each pixel's colour
    # falls between the nearby person colour and the nearby background colour.
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * BAND + 1,) * 2)
    sure_fg = cv2.erode((mask > 0.5).astype(np.float32), kernel)
    sure_bg = cv2.erode((mask <= 0.5).astype(np.float32), kernel)
    fg = _fill(image, sure_fg)
    bg = _fill(image, sure_bg)
    span = fg - bg
    length2 = np.sum(span * span, axis=2)
    colour = np.sum((image - bg) * span, axis=2) / (length2 + 1e-3)
    trust = np.clip(np.sqrt(length2) / CONTRAST, 0.0, 1.0)
    # Without colour contrast, trust the segmentation but tighten its blurry, upsampled edge.
    tight = np.clip((mask - 0.5) * TIGHTEN + 0.5, 0.0, 1.0)
    blended = trust * np.clip(colour, 0.0, 1.0) + (1.0 - trust) * tight
    return np.asarray(np.where(sure_fg > 0, 1.0, np.where(sure_bg > 0, 0.0, blended)), np.float32)


def _fill(image: Float, weight: Float) -> Float:
    h, w = weight.shape
    half = (w // 2, h // 2)
    small_w = cv2.resize(weight, half, interpolation=cv2.INTER_AREA)
    small_c = cv2.resize(image * weight[..., None], half, interpolation=cv2.INTER_AREA)
    filled = push_pull(small_c, small_w)
    return np.asarray(cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)


def composite(person: Float, alpha: Float, backdrop: Float) -> Float:
    """Put the person over a new backdrop without a fringe of the old background's colour."""
    out = np.array(backdrop, dtype=np.float32, copy=True)
    solid = alpha >= OPAQUE
    out[solid] = person[solid]
    edge = ~solid & (alpha > 1.0 - OPAQUE)
    # Along the soft edge the photo's pixels carry the old background; take the person's colour
    # there from just inside the edge instead, and trust the pixel more the more opaque it is.
    inner = fill_behind(person, 1.0 - (alpha > 0.98).astype(np.float32), scale=0.5)[edge]
    a = alpha[edge][:, None]
    trust = a**4
    colour = trust * person[edge] + (1.0 - trust) * inner
    out[edge] = np.clip(a * colour + (1.0 - a) * backdrop[edge], 0.0, 255.0)
    return out
