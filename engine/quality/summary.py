"""Set-level verdict: enough accepted photos, one person, no duplicates, and variety hints."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.quality.identity import duplicate_problems
from engine.quality.people import decide_person, set_aside_lines, tie_problems
from engine.quality.report import N_, FaceRecord, SetReport, Words, words
from engine.quality.thresholds import DEFAULT_THRESHOLDS, Thresholds


def summarize_set(
    faces: Sequence[FaceRecord],
    *,
    min_count: int,
    max_count: int,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> SetReport:
    """Return whether the accepted faces make a set ready to train, and how to improve it.

    Only the person's photos (the largest group of alike faces) count and are judged.
    """
    decision = decide_person(faces, thresholds)
    faces = [face for face in faces if face.label in decision.person]
    count = len(faces)
    problems = [*tie_problems(decision), *_count_problems(count, min_count, max_count)]
    problems += duplicate_problems(faces, thresholds)
    hints = variety_hints(faces, thresholds)
    return SetReport(
        ready=not problems,
        accepted=count,
        problems=tuple(problems),
        hints=tuple(hints),
        score=_score(faces, min_count, len(problems), len(hints)),
        set_aside=tuple(set_aside_lines(decision)),
    )


def _count_problems(count: int, min_count: int, max_count: int) -> list[str]:
    if count < min_count:
        more = min_count - count
        return [f"{count} of {min_count} photos so far: send {more} more."]
    if count > max_count:
        return [f"{count} photos is too many: keep your best {max_count}."]
    return []


def variety_hints(faces: Sequence[FaceRecord], t: Thresholds) -> list[Words]:
    """Return suggestions for a more varied set (poses, light, outfits), when it looks uniform."""
    if len(faces) < t.variety_min_photos:
        return []
    hints: list[Words] = []
    yaws = [f.pose[0] for f in faces if f.pose]
    if len(yaws) == len(faces) and np.ptp(yaws) < t.variety_yaw_spread:
        hints.append(
            words(N_("All photos face straight ahead: add a few with your head slightly turned."))
        )
    light = [f.light for f in faces if len(f.light) >= 2]
    if len(light) == len(faces) and _spread(light) < t.variety_light_spread:
        hints.append(
            words(N_("All photos have the same light: add some by a window, outdoors or indoors."))
        )
    outfits = [f.outfit for f in faces if len(f.outfit) == 3]
    if len(outfits) == len(faces) and _spread(outfits) < t.variety_outfit_spread:
        hints.append(
            words(N_("You wear the same clothes in every photo: add some in a different outfit."))
        )
    return hints


def _spread(values: Sequence[tuple[float, ...]]) -> float:
    """Return the largest distance of any value from their mean."""
    array = np.asarray(values, dtype=np.float64)
    return float(np.linalg.norm(array - array.mean(axis=0), axis=1).max())


def _score(faces: Sequence[FaceRecord], min_count: int, problems: int, hints: int) -> float:
    if not faces:
        return 0.0
    mean_quality = float(np.mean([f.quality for f in faces]))
    filled = min(1.0, len(faces) / max(min_count, 1))
    penalty = 0.5**problems * (1.0 - 0.05 * hints)
    return round(mean_quality * filled * penalty, 3)
