"""The BackgroundJudge on real photos: what it measures ahead is what selection would measure."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import ImageOps

from engine.faces import FaceAnalyzer
from engine.studio.express.backend import ExpressStudio
from engine.studio.judging import BackgroundJudge, FaceSelecting
from engine.studio.likeness import person_from_selfies
from engine.studio.lora.backend import LoraStudio
from engine.studio.protocol import GeneratedImage
from engine.studio.selection import Measure, SelectionRules, measure_candidate, select_pack
from tests import photos

RULES = SelectionRules()


@pytest.fixture(scope="module")
def faces() -> Iterator[FaceAnalyzer]:
    analyzer = FaceAnalyzer()
    yield analyzer
    analyzer.close()


def _candidates() -> list[GeneratedImage]:
    shots = [ImageOps.mirror(photos.grace_hopper()), photos.astronaut(), photos.chelsea()]
    return [
        GeneratedImage("medical", seed, photos.to_bytes(image, "PNG"))
        for seed, image in enumerate(shots)
    ]


def _same(a: Measure, b: Measure) -> bool:
    if (a.counted, a.shape) != (b.counted, b.shape) or (a.face is None) != (b.face is None):
        return False
    if a.face is None or b.face is None:
        return True
    close = np.allclose(a.face.descriptor, b.face.descriptor, atol=1e-6)
    return close and a.face.face_hash == b.face.face_hash


def test_measures_made_on_the_judge_thread_match_the_selection_s_own(
    faces: FaceAnalyzer,
) -> None:
    candidates, selfies = _candidates(), [photos.to_bytes(photos.grace_hopper())]
    judge = BackgroundJudge(faces, RULES)
    seen: set[str] = set()
    original = faces.detect

    def detect(rgb: np.ndarray) -> list:  # type: ignore[type-arg]
        seen.add(threading.current_thread().name)
        return original(rgb)

    faces.detect = detect  # type: ignore[method-assign]  # only to see which thread measures
    try:
        judge.learn_person(selfies)
        judge.submit(candidates[:2])  # the third was never submitted: measured on the spot
        measures, person = judge.collect(candidates, selfies)
    finally:
        del faces.detect
        judge.close()
    inline = [measure_candidate(faces, c, RULES) for c in candidates]
    assert all(_same(a, b) for a, b in zip(measures, inline, strict=True))
    assert [m.face is not None for m in measures] == [True, True, False]  # the cat has no face
    assert person == person_from_selfies(faces, selfies)
    assert any(name.startswith("judge") for name in seen) and "MainThread" in seen
    chosen = select_pack(faces, candidates, selfies=selfies, keep_per_style=2, rules=RULES,
                         rank_faces=True, measures=measures, person=person)  # fmt: skip
    plain = select_pack(faces, candidates, selfies=selfies, keep_per_style=2, rules=RULES,
                        rank_faces=True)  # fmt: skip
    assert [c.seed for c in chosen.images] == [c.seed for c in plain.images] == [0]


def test_one_job_s_measures_and_person_never_reach_the_next(faces: FaceAnalyzer) -> None:
    candidates = _candidates()
    judge = BackgroundJudge(faces, RULES)
    try:
        judge.learn_person([photos.to_bytes(photos.grace_hopper())])
        judge.submit(candidates)
        judge.collect(candidates[:1], [])
        astronaut = [photos.to_bytes(photos.astronaut())]
        judge.learn_person([photos.to_bytes(photos.grace_hopper())])  # then other selfies came
        measures, person = judge.collect(candidates[1:2], astronaut)
    finally:
        judge.close()
    assert person == person_from_selfies(faces, astronaut)
    assert len(measures) == 1 and measures[0].face is not None


def test_both_backends_select_through_the_one_face_selection() -> None:
    for backend in (LoraStudio, ExpressStudio):
        assert issubclass(backend, FaceSelecting)
        assert "select" not in vars(backend), f"{backend.__name__} copies select()"
    assert "close" not in vars(ExpressStudio)


def test_the_face_selection_keeps_the_persons_face_from_what_its_judge_measured() -> None:
    candidates, selfies = _candidates(), [photos.to_bytes(photos.grace_hopper())]
    selecting = FaceSelecting(FaceAnalyzer(), RULES, rank_faces=True)
    try:
        selecting.judge.learn_person(selfies)
        selecting.judge.submit(candidates)
        chosen = selecting.select(candidates, selfies=selfies, keep_per_style=2)
    finally:
        selecting.close()
    assert [c.seed for c in chosen.images] == [0]  # Grace Hopper mirrored; not the astronaut
    unranked = FaceSelecting(FaceAnalyzer(), RULES, rank_faces=False)
    try:
        kept = unranked.select(candidates, selfies=[photos.to_bytes(photos.chelsea())],
                               keep_per_style=2)  # fmt: skip
    finally:
        unranked.close()
    assert [c.seed for c in kept.images] == [0, 1]  # no face in the selfies: the first, unranked
