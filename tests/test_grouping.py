"""The set's bookkeeping of who counts as the person, photo by photo, and what it tells them."""

from __future__ import annotations

from bot.chat.grouping import Grouping
from bot.chat.session import Selfie
from engine.quality.report import FaceRecord, Verdict


def _selfie(n: int) -> Selfie:
    label = f"photo {n}"
    return Selfie(label, f"k/{n}", f"f{n}", Verdict.ACCEPTED, FaceRecord(label, (0.0,), "0", 0.5))


def _labels(selfies: list[Selfie]) -> list[str]:
    return [s.label for s in selfies]


def test_a_stranger_first_is_set_aside_once_the_person_has_more_photos() -> None:
    group = Grouping([], [])
    group.add(_selfie(1), (("photo 1",), ()), most_aside=5)  # the stranger, alone so far
    group.add(_selfie(2), None, most_aside=5)  # a tie: the gate asks, the set stays as it is
    assert _labels(group.selfies) == ["photo 1", "photo 2"] and group.notes == []
    group.add(_selfie(3), (("photo 2", "photo 3"), ("photo 1",)), most_aside=5)
    assert _labels(group.selfies) == ["photo 2", "photo 3"]
    assert _labels(group.set_aside) == ["photo 1"]
    assert group.notes == [
        "Photo 1 doesn't look like the other 2, so I've set it aside. Send only photos of you."
    ]
    assert _labels(group.all()) == ["photo 2", "photo 3", "photo 1"]  # the person's first


def test_a_set_aside_photo_that_matches_later_counts_again() -> None:
    group = Grouping([_selfie(2), _selfie(3)], [_selfie(1)])
    group.add(_selfie(4), (("photo 1", "photo 4"), ("photo 2", "photo 3")), most_aside=5)
    assert _labels(group.selfies) == ["photo 1", "photo 4"]
    assert "Photo 1 counts now: it matches your other photos." in group.notes
    assert sum("set it aside" in note for note in group.notes) == 2  # photos 2 and 3
    assert not any("Photo 4" in note for note in group.notes)  # the new photo needs no note


def test_only_the_newest_set_aside_photos_are_kept() -> None:
    group = Grouping([_selfie(1), _selfie(2)], [_selfie(3), _selfie(4)])
    group.add(_selfie(5), (("photo 1", "photo 2"), ("photo 3", "photo 4", "photo 5")), most_aside=2)
    assert _labels(group.set_aside) == ["photo 4", "photo 5"]
