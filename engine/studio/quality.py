"""A pack's quality figures from the selection's own judgements.

One implementation: the worker's record and metrics (through `select_pack`) and `headshots
evaluate` (engine/evaluate/measure.py) both summarise with `group_quality`, on the judgements the
ranking and the near-copy floor made, so the figures can never disagree with what was kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.jobs.quality import NO_FACES, OVERALL, GroupQuality, PackQuality
from engine.studio.judgement import Judgement
from engine.studio.protocol import GeneratedImage


def group_quality(name: str, verdicts: Sequence[Judgement | None], kept: int) -> GroupQuality:
    """Return the figures of one group of judged images (None: an image that could not be read)."""
    found = [v for v in verdicts if v is not None and v.likeness is not None]
    alike = [v.likeness for v in found if v.likeness is not None]
    same = sum(v.faces == 1 and v.likeness.same_person for v in found if v.likeness)
    distances = [a.to_centroid for a in alike]
    return GroupQuality(
        name=name,
        images=len(verdicts),
        faces_found=len(found),
        kept=kept,
        same_person_share=round(same / len(verdicts), 4) if found else None,
        median_distance=percentile(distances, 50),
        p90_distance=percentile(distances, 90),
        near_copies=sum(a.near_copy for a in alike),
    )


def pack_quality(
    candidates: Sequence[GeneratedImage],
    verdicts: Sequence[Judgement],
    kept: Sequence[GeneratedImage],
) -> PackQuality:
    """Return the figures of every style and of the pack; `verdicts` pairs with `candidates`."""
    styles = dict.fromkeys(c.style_id for c in candidates)
    per_style = tuple(
        group_quality(
            style,
            [v for c, v in zip(candidates, verdicts, strict=True) if c.style_id == style],
            sum(k.style_id == style for k in kept),
        )
        for style in styles
    )
    overall = group_quality(OVERALL, verdicts, len(kept))
    distances = tuple(round(v.likeness.to_centroid, 4) for v in verdicts if v.likeness)
    return PackQuality(overall, per_style, distances, "" if overall.faces_found else NO_FACES)


def unmeasured(
    candidates: Sequence[GeneratedImage], kept: Sequence[GeneratedImage], note: str
) -> PackQuality:
    """Return a pack's figures when nothing could be measured, saying why in `note`."""

    def empty(name: str, images: int, kept_n: int) -> GroupQuality:
        return GroupQuality(name, images, 0, kept_n, None, None, None, 0)

    styles = dict.fromkeys(c.style_id for c in candidates)
    per_style = tuple(
        empty(s, sum(c.style_id == s for c in candidates), sum(k.style_id == s for k in kept))
        for s in styles
    )
    return PackQuality(empty(OVERALL, len(candidates), len(kept)), per_style, (), note)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the q-th percentile rounded to 4 places, or None for no values."""
    return round(float(np.percentile(values, q)), 4) if values else None
