"""The express tier's rendering core: the person's selfies as reference images, no training.

FLUX.2 [klein] takes reference images through `image=[...]`: each is VAE-encoded and its latent
tokens are appended to the image tokens of every picture in the batch, so one pipeline call shares
one reference set, and one size. Rotation across a pack therefore happens between calls: each
style's shots are split by aspect ratio into whole batches, and each batch gets the next set.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from engine.studio.styles import ASPECTS

OnProgress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]

# The pipeline crops references to multiples of the VAE's 8x times the 2x2 patch, and refuses
# sides under 64 px (Flux2ImageProcessor.check_image_input).
_REF_MULTIPLE_PX = 16
_REF_MIN_SIDE_PX = 64

# How far apart two selfies must be to count as different: a turn of the head, a tilt, a change
# of light. Distances are capped at 1 so variety can break near-ties but never beat a much
# sharper, better-lit selfie.
_YAW_SPAN_DEG = 25.0
_PITCH_SPAN_DEG = 15.0
_BRIGHTNESS_SPAN = 0.15
_VARIETY_WEIGHT = 0.3
_QUALITY_FLOOR = 0.75  # references come from the crops of at least this share of the best quality


class ExpressCancelledError(Exception):
    """Raised when `should_stop()` turned true during an express render."""


@dataclass(frozen=True)
class ExpressRender:
    """How the express tier renders: output size, the distilled few-step schedule, batch size."""

    width_px: int = 1024
    height_px: int = 1024
    steps: int = 4
    guidance: float = 1.0  # the distilled model ignores guidance; above 1 only logs a warning
    batch: int = 4  # images per pipeline call; they share one reference set
    reference_px: int = 512  # references are resized to about this square: each costs tokens
    max_sequence_length: int = 512  # the pipeline's default; the model was trained with it


@dataclass(frozen=True)
class RefCandidate:
    """What the gate measured on an accepted selfie: its quality and how it was taken."""

    quality: float  # the gate's quality score; higher is better
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    brightness: float = 0.5  # face brightness, 0-1
    descriptor: tuple[float, ...] | None = None  # the face's identity; None: no face found


def choose_references(candidates: Sequence[RefCandidate], k: int) -> list[int]:
    """Return the indices of k references: the most typical of the best selfies, varied.

    Among the best-quality crops (within a quarter of the best, at least k), the face closest to the
    centroid of all the person's descriptors leads, and each next one trades closeness against
    looking unlike those chosen. A sharp, well-lit photo can still be the least like the person
    (an old photo, a strong expression); references carry the identity into every render.
    Without descriptors, quality alone orders them.
    """
    if k <= 0 or not candidates:
        return []
    pool = _best_quality(candidates, k)
    score = _typicality(candidates)
    chosen = [max(pool, key=lambda i: (score[i], -i))]
    while len(chosen) < min(k, len(pool)):
        rest = [i for i in pool if i not in chosen]
        chosen.append(max(rest, key=lambda i: (_gain(candidates, chosen, i, score[i]), -i)))
    return chosen


def _best_quality(candidates: Sequence[RefCandidate], k: int) -> list[int]:
    """Return the indices of the crops near the best quality (at least k), best first."""
    order = sorted(range(len(candidates)), key=lambda i: (-candidates[i].quality, i))
    floor = candidates[order[0]].quality * _QUALITY_FLOOR
    good = [i for i in order if candidates[i].quality >= floor]
    return good if len(good) >= k else order[:k]


def _typicality(candidates: Sequence[RefCandidate]) -> list[float]:
    """Return each candidate's score for leading: minus its distance to the centroid.

    Without a descriptor anywhere it is the quality; a face without one scores as the least
    typical face that has one.
    """
    known = [np.asarray(c.descriptor) for c in candidates if c.descriptor is not None]
    if not known:
        return [c.quality for c in candidates]
    centroid = np.mean(known, axis=0)
    distances = [
        None if c.descriptor is None else float(np.linalg.norm(np.asarray(c.descriptor) - centroid))
        for c in candidates
    ]
    worst = max(d for d in distances if d is not None)
    return [-(worst if d is None else d) for d in distances]


def reference_sets(chosen: Sequence[int], per_image: int) -> list[list[int]]:
    """Return distinct sets of `per_image` chosen references that together use every one.

    Windows of `per_image` step across the chosen list (best first), each kept in that order, so
    no set is a reordering of another and a person with more good selfies than references per
    image gets all of them into the pack. With no more selfies than that, the one set is all.
    """
    size = min(per_image, len(chosen))
    if size <= 0:
        return [[]]
    sets: list[list[int]] = []
    start = 0
    while True:
        window = [chosen[i] for i in sorted((start + j) % len(chosen) for j in range(size))]
        if window in sets:
            return sets
        sets.append(window)
        start = (start + size) % len(chosen)


def aspect_size(aspect: str, side_px: int) -> tuple[int, int]:
    """Return (width, height) of an aspect ratio `side_px` wide: 4:5 at 1024 is 1024x1280."""
    wide, tall = ASPECTS[aspect]
    return side_px, max(_REF_MULTIPLE_PX, round(side_px * tall / wide / 16) * 16)


@dataclass(frozen=True)
class Batch:
    """One pipeline call: images of one aspect ratio that share one reference set."""

    references: list[int]
    aspect: str
    images: list[int]  # indices into the style's shots


def plan_batches(
    aspects: Sequence[str], sets: Sequence[list[int]], batch: int, first_set: int = 0
) -> list[Batch]:
    """Split a style's shots into whole batches of one aspect ratio, each with the next set.

    Sets rotate by batch, not by image, so a style renders in full batches; `first_set` carries
    the rotation on from the styles before.
    """
    by_aspect: dict[str, list[int]] = {}
    for index, aspect in enumerate(aspects):
        by_aspect.setdefault(aspect, []).append(index)
    size = max(batch, 1)
    chunks = [
        (a, ids[i : i + size]) for a, ids in by_aspect.items() for i in range(0, len(ids), size)
    ]
    return [
        Batch(list(sets[(first_set + n) % len(sets)]), aspect, images)
        for n, (aspect, images) in enumerate(chunks)
    ]


def render_express(
    pipe: Any,
    references: Sequence[Image.Image],
    prompts: Sequence[str],
    seeds: Sequence[int],
    settings: ExpressRender,
    *,
    on_progress: OnProgress,
    should_stop: ShouldStop,
) -> list[Image.Image]:
    """Render one image per (prompt, seed) with `references`, in batches; report each image."""
    if len(prompts) != len(seeds):
        raise ValueError(f"{len(prompts)} prompts but {len(seeds)} seeds")
    refs = [fit_reference(image, settings.reference_px) for image in references]
    images: list[Image.Image] = []
    for start in range(0, len(prompts), max(settings.batch, 1)):
        if should_stop():
            raise ExpressCancelledError("express render cancelled")
        end = start + max(settings.batch, 1)
        batch = (prompts[start:end], seeds[start:end])
        images += _render_batch(pipe, refs, *batch, settings, should_stop=should_stop)
        on_progress(len(images), len(prompts))
    return images


def fit_reference(image: Image.Image, side_px: int) -> Image.Image:
    """Resize a reference to about side_px squared, sides multiples of 16 and at least 64 px."""
    scale = side_px / math.sqrt(image.width * image.height)
    width, height = (_ref_side(side * scale) for side in image.size)
    rgb = image.convert("RGB")
    return (
        rgb
        if rgb.size == (width, height)
        else rgb.resize((width, height), Image.Resampling.LANCZOS)
    )


def pipeline_call(
    references: Sequence[Image.Image],
    prompts: Sequence[str],
    seeds: Sequence[int],
    settings: ExpressRender,
    callback: Any = None,
) -> dict[str, Any]:
    """Return the keyword arguments of one Flux2KleinPipeline call for a batch."""
    import torch

    return {
        "image": list(references) or None,
        "prompt": list(prompts),
        "height": settings.height_px,
        "width": settings.width_px,
        "num_inference_steps": settings.steps,
        "guidance_scale": settings.guidance,
        # CPU generators draw the same noise whatever device the model is on.
        "generator": [torch.Generator("cpu").manual_seed(seed) for seed in seeds],
        "max_sequence_length": settings.max_sequence_length,
        "callback_on_step_end": callback,
    }


def _render_batch(
    pipe: Any,
    references: Sequence[Image.Image],
    prompts: Sequence[str],
    seeds: Sequence[int],
    settings: ExpressRender,
    *,
    should_stop: ShouldStop,
) -> list[Image.Image]:
    call = pipeline_call(references, prompts, seeds, settings, _stop_check(should_stop))
    images: list[Image.Image] = pipe(**call).images
    return images


def _stop_check(should_stop: ShouldStop) -> Any:
    def check(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if should_stop():
            raise ExpressCancelledError("express render cancelled")
        return kwargs

    return check


def _gain(
    candidates: Sequence[RefCandidate], chosen: Sequence[int], index: int, score: float
) -> float:
    """Score a candidate: how typical it is plus how unlike the nearest chosen selfie it is."""
    nearest = min(_distance(candidates[index], candidates[c]) for c in chosen)
    return score + _VARIETY_WEIGHT * min(nearest, 1.0)


def _distance(a: RefCandidate, b: RefCandidate) -> float:
    return math.hypot(
        (a.yaw_deg - b.yaw_deg) / _YAW_SPAN_DEG,
        (a.pitch_deg - b.pitch_deg) / _PITCH_SPAN_DEG,
        (a.brightness - b.brightness) / _BRIGHTNESS_SPAN,
    )


def _ref_side(side: float) -> int:
    return max(_REF_MIN_SIDE_PX, round(side / _REF_MULTIPLE_PX) * _REF_MULTIPLE_PX)
