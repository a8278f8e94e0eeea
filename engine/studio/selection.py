"""Keep the generated images that look like the person: one clear face, closest identity first.

The person gets fewer images rather than images that do not look like them: a candidate whose
dlib descriptor is farther than `max_distance` from the selfies' centroid is dropped (calibrated
on real people: engine/quality/thresholds.py, `selection_max_distance`), and so is a near-copy
of one selfie (see engine/likeness.py, which `headshots evaluate` measures with too).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image

from engine.faces import RGB, FaceAnalyzer, FaceBox
from engine.jobs.quality import NO_SELFIE_FACE
from engine.quality.thresholds import DEFAULT_THRESHOLDS
from engine.studio.judgement import Judgement
from engine.studio.likeness import (
    ANALYSIS_PX,
    Descriptor,
    FaceSignature,
    Likeness,
    Person,
    likeness,
    person_from_selfies,
    signature,
)
from engine.studio.protocol import GeneratedImage, Selection
from engine.studio.quality import pack_quality, unmeasured


@dataclass(frozen=True)
class SelectionRules:
    """What counts as one clear face of the right person."""

    max_distance: float = DEFAULT_THRESHOLDS.selection_max_distance
    min_face_fraction: float = 0.12  # the face's box side over the image's short side
    noise_face_fraction: float = 0.05  # smaller detections are background, not a second face
    min_score: float = 0.75


def select_best(
    faces: FaceAnalyzer,
    candidates: Sequence[GeneratedImage],
    *,
    selfies: Sequence[bytes],
    keep_per_style: int,
    rules: SelectionRules = SelectionRules(),
) -> list[GeneratedImage]:
    """Return up to `keep_per_style` alike images per style, closest first, with their distance."""
    chosen = select_pack(
        faces, candidates, selfies=selfies, keep_per_style=keep_per_style, rules=rules,
        rank_faces=True,
    )  # fmt: skip
    return list(chosen.images)


@dataclass(frozen=True)
class Measure:
    """What judging needs of one image, measured without the person (the slow, CPU part).

    Kept apart from the verdict so it can be measured while the GPU renders the next batch
    (engine/studio/judging.py); the verdict against the person is cheap arithmetic.
    """

    counted: tuple[FaceBox, ...]  # the faces that count, largest first
    face: FaceSignature | None  # the largest counted face's signature
    shape: tuple[int, int]  # height and width of the image measured


def judge_candidate(
    faces: FaceAnalyzer, candidate: GeneratedImage, person: Person, rules: SelectionRules
) -> Judgement:
    """Return the selection's verdict on one rendered image, measured at the analysis size."""
    return verdict(measure_candidate(faces, candidate, rules), person, rules)


def measure_candidate(
    faces: FaceAnalyzer, candidate: GeneratedImage, rules: SelectionRules
) -> Measure:
    """Return the measure of one rendered image at the analysis size."""
    with Image.open(io.BytesIO(candidate.png)) as image:
        rgb = analysis_copy(np.asarray(image.convert("RGB"), dtype=np.uint8))
    return measure(faces, rgb, rules)


def judge(faces: FaceAnalyzer, rgb: RGB, person: Person, rules: SelectionRules) -> Judgement:
    """Return whether the selection keeps `rgb`, measuring its largest face against `person`."""
    return verdict(measure(faces, rgb, rules), person, rules)


def measure(faces: FaceAnalyzer, rgb: RGB, rules: SelectionRules) -> Measure:
    """Return the faces that count in `rgb` and the largest one's signature."""
    counted = tuple(counted_faces(faces.detect(rgb), rgb, rules))
    face = signature(faces, rgb, counted[0]) if counted else None
    return Measure(counted, face, (rgb.shape[0], rgb.shape[1]))


def verdict(measured: Measure, person: Person, rules: SelectionRules) -> Judgement:
    """Return the selection's verdict on a measured image against `person`."""
    if measured.face is None:
        return Judgement(0, None, None, "no_face")
    alike = likeness(measured.face, person)
    reason = _reason(list(measured.counted), measured.shape, alike, rules)
    return Judgement(len(measured.counted), measured.face, alike, reason)


def counted_faces(boxes: Sequence[FaceBox], rgb: RGB, rules: SelectionRules) -> list[FaceBox]:
    """Return the faces that count, largest first: smaller detections are background."""
    short = min(rgb.shape[:2])
    return [b for b in boxes if b.side >= rules.noise_face_fraction * short]


def one_clear_face(boxes: Sequence[FaceBox], rgb: RGB, rules: SelectionRules) -> FaceBox | None:
    """Return the only face that matters, or None for no face, a weak face or two faces."""
    return _clear_face(counted_faces(boxes, rgb, rules), (rgb.shape[0], rgb.shape[1]), rules)


def _clear_face(
    counted: Sequence[FaceBox], shape: tuple[int, int], rules: SelectionRules
) -> FaceBox | None:
    if len(counted) != 1:
        return None
    face = counted[0]
    big_enough = face.side >= rules.min_face_fraction * min(shape)
    inside = face.outside_fraction(shape[1], shape[0]) < 0.2
    return face if big_enough and inside and face.score >= rules.min_score else None


def reference_descriptors(faces: FaceAnalyzer, selfies: Sequence[bytes]) -> list[Descriptor]:
    """Return the descriptor of the largest face in each selfie that has one."""
    return person_from_selfies(faces, selfies).descriptors


def analysis_copy(rgb: RGB) -> RGB:
    """Return `rgb` shrunk so its long side is at most the analysis size."""
    scale = ANALYSIS_PX / max(rgb.shape[:2])
    if scale >= 1.0:
        return rgb
    size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _reason(
    counted: list[FaceBox], shape: tuple[int, int], alike: Likeness, rules: SelectionRules
) -> str:
    if len(counted) > 1:
        return "faces"
    if _clear_face(counted, shape, rules) is None:
        return "unclear_face"
    if alike.to_centroid > rules.max_distance:
        return "different_person"
    return "near_copy" if alike.near_copy else ""


def first_per_style(candidates: Sequence[GeneratedImage], keep: int) -> list[GeneratedImage]:
    """Keep the first `keep` candidates of each style (the tiny models draw no faces)."""
    kept: list[GeneratedImage] = []
    for style_id in dict.fromkeys(c.style_id for c in candidates):
        kept += [c for c in candidates if c.style_id == style_id][:keep]
    return kept


def select_pack(
    faces: FaceAnalyzer,
    candidates: Sequence[GeneratedImage],
    *,
    selfies: Sequence[bytes],
    keep_per_style: int,
    rules: SelectionRules,
    rank_faces: bool,
    measures: Sequence[Measure] | None = None,
    person: Person | None = None,
) -> Selection:
    """Every backend's `select`: judge each candidate, keep the most alike, measure the pack.

    With `rank_faces` off (a tiny model, whose images are noise) the first candidates of each
    style are kept unranked, but they are still judged, so the record says "no faces found".
    `measures` (one per candidate) and `person` are what a BackgroundJudge measured already.
    """
    person = person_from_selfies(faces, selfies) if person is None else person
    if not person.faces:
        kept = [] if rank_faces else first_per_style(candidates, keep_per_style)
        return Selection(tuple(kept), unmeasured(candidates, kept, NO_SELFIE_FACE))
    if measures is None:
        measures = [measure_candidate(faces, c, rules) for c in candidates]
    verdicts = [verdict(m, person, rules) for m in measures]
    if rank_faces:
        kept = _most_alike(candidates, verdicts, keep_per_style)
    else:
        kept = first_per_style(candidates, keep_per_style)
    return Selection(tuple(kept), pack_quality(candidates, verdicts, kept))


def _most_alike(
    candidates: Sequence[GeneratedImage], verdicts: Sequence[Judgement], keep: int
) -> list[GeneratedImage]:
    """Keep up to `keep` kept candidates per style, closest first, each with its distance."""
    scored = [
        replace(c, score=round(v.likeness.to_centroid, 4))
        for c, v in zip(candidates, verdicts, strict=True)
        if v.kept and v.likeness is not None
    ]
    chosen: list[GeneratedImage] = []
    for style_id in dict.fromkeys(c.style_id for c in candidates):
        mine = [c for c in scored if c.style_id == style_id]
        chosen += sorted(mine, key=lambda c: c.score or 0.0)[:keep]
    return chosen
