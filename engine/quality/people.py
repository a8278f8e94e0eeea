"""Who the set is about: the largest group of faces that look alike, decided the same everywhere.

The chat, the set summary, the training set and `headshots check` all call `decide_person`, so a
stranger sent first cannot lock the real person out, and the order of the photos never matters
except to keep things as they are when two groups are equally large.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from engine.quality.report import N_, FaceRecord, Finding, Person, Verdict, words
from engine.quality.thresholds import Thresholds


def decide_person(faces: Sequence[FaceRecord], t: Thresholds, keep: Sequence[str] = ()) -> Person:
    """Return the largest group (of at least two) of alike faces as the person."""
    groups = _groups(faces, t)
    labels = [face.label for face in faces]
    if len(faces) <= 1:
        return Person(tuple(labels), ())
    largest = max(len(group) for group in groups)
    tops = [group for group in groups if len(group) == largest]
    tie = largest < 2 or len(tops) > 1
    chosen = tops[0] if not tie else _kept(tops, keep)
    person = tuple(label for label in labels if label in chosen)
    return Person(person, tuple(label for label in labels if label not in chosen), tie)


def _kept(tops: list[frozenset[str]], keep: Sequence[str]) -> frozenset[str]:
    """Return the tied group that holds the set's current photos, so a tie changes nothing."""
    for group in tops:
        if group & set(keep):
            return group
    return frozenset()


def _groups(faces: Sequence[FaceRecord], t: Thresholds) -> list[frozenset[str]]:
    """Return groups of alike faces: average-linkage clustering cut at `same_person_distance`.

    Average, not single, linkage: one look-alike pair between two people (their closest copies
    are only ~0.03 above the cut) must not chain both people into one group.
    """
    if not faces:
        return []
    vectors = np.asarray([face.descriptor for face in faces], dtype=np.float64)
    distances = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
    groups = [[i] for i in range(len(faces))]
    while (pair := _closest(groups, distances, t.same_person_distance)) is not None:
        first, second = pair
        groups[first] += groups.pop(second)
    return [frozenset(faces[i].label for i in group) for group in groups]


def _closest(
    groups: list[list[int]], distances: NDArray[np.float64], limit: float
) -> tuple[int, int] | None:
    """Return the two groups with the smallest mean distance, if it is within `limit`."""
    best, pair = limit, None
    for a in range(len(groups)):
        for b in range(a + 1, len(groups)):
            mean = float(distances[np.ix_(groups[a], groups[b])].mean())
            if mean <= best:
                best, pair = mean, (a, b)
    return pair


def person_finding(label: str, decision: Person) -> list[Finding]:
    """Return the finding for a photo outside the person's group (none when it is inside)."""
    if label in decision.person:
        return []
    if decision.tie:
        others = tuple(name for name in (*decision.person, *decision.set_aside) if name != label)
        message = words(
            N_(
                "This doesn't look like the same person as {others}. Which one is you? Send"
                " another photo of you and I'll keep the ones that match."
            ),
            others=others,
        )
        return [Finding("different_person", message, Verdict.REJECTED, None)]
    if len(decision.person) == 1:
        aside = words(
            N_(
                "This doesn't look like the other photo, so I've set it aside. Send only photos"
                " of you."
            )
        )
    else:
        aside = words(
            N_(
                "This doesn't look like the other {count}, so I've set it aside. Send only"
                " photos of you."
            ),
            count=len(decision.person),
        )
    return [Finding("different_person", aside, Verdict.REJECTED, None)]


def tie_problems(decision: Person) -> list[str]:
    """Return the set summary's line about two equally large groups (the set is not ready)."""
    if not decision.tie or not decision.set_aside:
        return []
    if not decision.person:
        return [f"{_upper(_names(decision.set_aside))} look like different people. {_TELL}"]
    if decision.tie:
        verb = "doesn't" if len(decision.set_aside) == 1 else "don't"
        aside, person = _names(decision.set_aside), _names(decision.person)
        return [f"{_upper(aside)} {verb} look like {person}. {_TELL}"]
    return []


def set_aside_lines(decision: Person) -> list[str]:
    """Return a line per photo left out as someone else's, when the person is clear."""
    if decision.tie:
        return []
    return [
        f"{_upper(label)} doesn't look like {_the_other(len(decision.person))}, "
        "so I've set it aside. Send only photos of you."
        for label in decision.set_aside
    ]


_TELL = "Send more photos of you so I can tell which one is you."


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _the_other(count: int) -> str:
    return "the other photo" if count == 1 else f"the other {count}"


def _names(labels: Sequence[str]) -> str:
    """Return 'photo 1', 'photo 1 and photo 2' or 'photo 1, photo 2 and photo 3'."""
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} and {labels[-1]}"
