"""Judging off the GPU's clock: measure each rendered batch while the GPU renders the next one.

Face detection and the descriptor take about 0.1 s an image on a CPU core, 60 candidates a pack:
done after rendering they add seconds to every pack. A BackgroundJudge measures each batch on
one worker thread as soon as it is rendered (the render's torch kernels and the descriptor's
onnxruntime run release the GIL), and the selfies' faces while the studio trains or renders, so
the selection that follows only waits for the last batch. The measures are keyed by the PNG
bytes, so a re-run that loads its candidates from storage (the judge never saw them) measures
them on the spot, and one job's leftovers never reach another's selection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from engine.faces import FaceAnalyzer
from engine.studio.likeness import Person, person_from_selfies
from engine.studio.protocol import GeneratedImage, Selection
from engine.studio.selection import Measure, SelectionRules, measure_candidate, select_pack


class BackgroundJudge:
    """Measure candidates and the selfies' faces on one worker thread, ahead of the selection.

    One thread, so the face models are never used by two threads at once: the studio uses them
    itself only in `preprocess` and `select`, before anything is submitted and after `collect`.
    """

    def __init__(self, faces: FaceAnalyzer, rules: SelectionRules) -> None:
        self._faces = faces
        self._rules = rules
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="judge")
        self._measures: dict[bytes, Future[Measure]] = {}
        self._person: tuple[bytes, Future[Person]] | None = None

    def learn_person(self, selfies: Sequence[bytes]) -> None:
        """Start measuring the selfies' faces, the person every candidate is judged against."""
        key = _digest(selfies)
        self._person = (key, self._pool.submit(person_from_selfies, self._faces, list(selfies)))

    def submit(self, images: Sequence[GeneratedImage]) -> None:
        """Start measuring rendered candidates; returns at once."""
        for image in images:
            key = _digest([image.png])
            if key not in self._measures:
                self._measures[key] = self._pool.submit(
                    measure_candidate, self._faces, image, self._rules
                )

    def collect(
        self, candidates: Sequence[GeneratedImage], selfies: Sequence[bytes]
    ) -> tuple[list[Measure], Person]:
        """Return each candidate's measure and the person, measuring what was not submitted."""
        pending: list[Future[Any]] = list(self._measures.values())
        if self._person is not None:
            pending.append(self._person[1])
        wait(pending)  # the thread is idle from here on: the faces are this thread's again
        person = self._known_person(selfies) or person_from_selfies(self._faces, selfies)
        found = {key: future.result() for key, future in self._measures.items()}
        self.forget()
        measures = [
            found.get(_digest([c.png])) or measure_candidate(self._faces, c, self._rules)
            for c in candidates
        ]
        return measures, person

    def forget(self) -> None:
        """Drop every measure and the person (a cancelled job's, a finished one's)."""
        for future in self._measures.values():
            future.cancel()
        self._measures.clear()
        self._person = None

    def close(self) -> None:
        """Stop the worker thread once its queued work is cancelled or done."""
        self.forget()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _known_person(self, selfies: Sequence[bytes]) -> Person | None:
        if self._person is None or self._person[0] != _digest(selfies):
            return None
        return self._person[1].result()


class FaceSelecting:
    """The selection every backend makes: its face models, a judge, and `select` and `close`.

    Both tiers choose their pack the same way (one clear face of the person, most alike first,
    never a pasted selfie), so a backend inherits this rather than copying it.
    """

    def __init__(self, faces: FaceAnalyzer, rules: SelectionRules, *, rank_faces: bool) -> None:
        self.faces = faces
        self.judge = BackgroundJudge(faces, rules)  # measures while the GPU renders
        self._rules, self._rank_faces = rules, rank_faces

    def select(
        self,
        candidates: Sequence[GeneratedImage],
        *,
        selfies: Sequence[bytes],
        keep_per_style: int,
    ) -> Selection:
        """Keep the candidates with one clear face of the person, most alike first, per style."""
        measures, person = self.judge.collect(candidates, selfies)
        return select_pack(
            self.faces, candidates, selfies=selfies, keep_per_style=keep_per_style,
            rules=self._rules, rank_faces=self._rank_faces, measures=measures, person=person,
        )  # fmt: skip

    def close(self) -> None:
        """Stop the judge, then release the face models."""
        self.judge.close()
        self.faces.close()


def _digest(parts: Sequence[bytes]) -> bytes:
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(hashlib.sha256(part).digest())
    return hashed.digest()
