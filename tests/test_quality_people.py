"""Who the set is about: the largest group of alike faces, whatever order the photos came in."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from bot.cli import main
from engine.faces import FaceAnalyzer
from engine.quality import DEFAULT_THRESHOLDS, FaceRecord, PhotoReport, check_photo, summarize_set
from engine.quality.batch import judge_together
from engine.quality.people import decide_person
from tests import photos

STRANGER = "stranger.jpg"
ASIDE = f"{STRANGER.capitalize()} doesn't look like the other 4, so I've set it aside."


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    """Return four distinct shots of Grace Hopper and one of the astronaut, by file name."""
    grace = {
        f"grace-{n}.jpg": photos.to_bytes(s)
        for n, s in enumerate(photos.shots_of(photos.grace_hopper()))
    }
    return {**grace, STRANGER: photos.to_bytes(photos.astronaut())}


@pytest.fixture(scope="module")
def alone(files: dict[str, bytes], analyzer: FaceAnalyzer) -> dict[str, PhotoReport]:
    return {name: check_photo(data, name, analyzer=analyzer) for name, data in files.items()}


def test_every_order_of_four_and_one_gives_the_same_verdicts(alone: dict[str, PhotoReport]) -> None:
    seen = set()
    for order in itertools.permutations(alone):
        reports = judge_together([alone[name] for name in order], DEFAULT_THRESHOLDS)
        verdicts = tuple(sorted((r.face.label, str(r.verdict)) for r in reports if r.face))
        faces = [r.face for r in reports if r.face is not None]
        summary = summarize_set(faces, min_count=4, max_count=8)
        seen.add((verdicts, summary.ready, summary.accepted, summary.set_aside))
    assert len(seen) == 1
    ((verdicts, ready, accepted, aside),) = seen
    assert dict(verdicts)[STRANGER] == "rejected" and ready and accepted == 4
    assert [v for name, v in verdicts if name != STRANGER] == ["accepted"] * 4
    assert aside == (f"{ASIDE} Send only photos of you.",)


def test_photo_by_photo_the_stranger_is_set_aside_in_every_order(
    alone: dict[str, PhotoReport],
) -> None:
    """The chat's way: each photo decides with the ones before it, keeping the set on a tie."""
    faces = {name: report.face for name, report in alone.items()}
    for order in itertools.permutations(faces):
        counted: tuple[str, ...] = ()
        pool: list[FaceRecord] = []
        for name in order:
            face = faces[name]
            assert face is not None
            pool.append(face)
            counted = decide_person(pool, DEFAULT_THRESHOLDS, counted).person
        assert STRANGER not in counted and len(counted) == 4, order


def test_the_cli_sets_the_stranger_aside_when_it_comes_first(
    files: dict[str, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEADSHOTS_MIN_SELFIES", "4")
    for n, (name, data) in enumerate(sorted(files.items(), key=lambda kv: kv[0] != STRANGER)):
        (tmp_path / f"{n}-{name}").write_bytes(data)
    forward = sorted(tmp_path.iterdir())
    assert forward[0].name == f"0-{STRANGER}"
    outputs = []
    for paths in (forward, forward[::-1]):
        assert main(["check", "--json", *map(str, paths)]) == 0
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        verdicts = {Path(line["path"]).name: line["verdict"] for line in lines[:-1]}
        outputs.append((sorted(verdicts.items()), lines[-1]["accepted"], lines[-1]["set_aside"]))
    assert outputs[0] == outputs[1]
    pairs, accepted, aside = outputs[0]
    assert dict(pairs)[f"0-{STRANGER}"] == "rejected" and accepted == 4
    assert list(dict(pairs).values()).count("accepted") == 4
    assert aside == [f"0-{ASIDE[0].lower()}{ASIDE[1:]} Send only photos of you."]


def test_a_tie_asks_and_keeps_the_set_as_it_was(alone: dict[str, PhotoReport]) -> None:
    first, stranger = alone["grace-0.jpg"].face, alone[STRANGER].face
    assert first is not None and stranger is not None
    tie = decide_person([stranger, first], DEFAULT_THRESHOLDS, keep=[STRANGER])
    assert tie.tie and tie.person == (STRANGER,) and tie.set_aside == ("grace-0.jpg",)
    undecided = decide_person([stranger, first], DEFAULT_THRESHOLDS)
    assert undecided.tie and undecided.person == ()
    summary = summarize_set([stranger, first], min_count=2, max_count=4)
    assert not summary.ready and "look like different people" in summary.problems[0]


def test_one_look_alike_pair_does_not_chain_two_people_together() -> None:
    def at(label: str, x: float, y: float = 0.0) -> FaceRecord:
        return FaceRecord(label, (x, y) + (0.0,) * 126, f"{len(label):016x}", 0.8)

    ann = [at("a1", 0.0), at("a2", 0.1), at("a3", 0.0, 0.1), at("a4", 0.05, 0.05)]
    # b3 is 0.52 from a2: under the cut, so linking single pairs would make one group of seven.
    bob = [at("b1", 1.0), at("b2", 1.1), at("b3", 0.62)]
    decision = decide_person([*bob, *ann], DEFAULT_THRESHOLDS)
    assert decision.person == ("a1", "a2", "a3", "a4") and not decision.tie
    assert decision.set_aside == ("b1", "b2", "b3")
