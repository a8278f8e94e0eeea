"""Measure every image of a pack against the selfies, then each style and the whole pack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from core.errors import HeadshotsError
from engine.faces import FaceAnalyzer
from engine.quality.report import QualityError
from engine.studio.judgement import Judgement
from engine.studio.likeness import (
    ANALYSIS_PX,
    NEAR_COPY_DISTANCE,
    NEAR_COPY_HASH_BITS,
    SAME_PERSON_DISTANCE,
    Person,
    person_from_selfies,
    variety,
)
from engine.studio.preprocess import decode_selfie
from engine.studio.protocol import GeneratedImage
from engine.studio.quality import group_quality
from engine.studio.selection import SelectionRules, judge

OVERALL = "overall"
NOTES = {
    "no_face": "no faces found",
    "unclear_face": "face too small, weak or cut off",
    "different_person": "different person",
    "unreadable": "not a readable image",
}


@dataclass(frozen=True)
class PackImage:
    """One image of a pack: a name to report it by, its style and its file bytes."""

    name: str
    style: str
    data: bytes


@dataclass(frozen=True)
class Passing:
    """What a pack must reach to pass (Settings.evaluate_*)."""

    min_same_person: float = 0.9
    max_near_copies: int = 0


DEFAULT_PASSING = Passing()


@dataclass(frozen=True)
class ImageResult:
    """The figures of one image; distances are None where no face was found."""

    name: str
    style: str
    faces: int
    to_centroid: float | None
    to_nearest: float | None
    hash_bits: int | None
    yaw: float | None
    pitch: float | None
    same_person: bool  # exactly one face, and the person's
    near_copy: bool
    kept: bool  # what the selection would keep
    note: str  # why it is not kept, for people; "" when kept

    def to_json(self) -> dict[str, Any]:
        """Return the figures as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class GroupSummary:
    """The figures of one style, or of the whole pack (`name` == "overall")."""

    name: str
    images: int
    one_face: int  # images with exactly one face
    same_person_share: float
    median_distance: float | None
    p90_distance: float | None
    near_copies: int
    pose_spread_deg: float
    pairwise_distance: float
    low_variety: bool
    passed: bool

    def to_json(self) -> dict[str, Any]:
        """Return the figures as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class PackSummary:
    """A pack's verdict: it passes when the whole pack and every style reach `passing`."""

    overall: GroupSummary
    styles: tuple[GroupSummary, ...]
    selfie_faces: int
    passing: Passing

    @property
    def passed(self) -> bool:
        """Return True when the pack and each of its styles meet the thresholds."""
        return self.overall.passed and all(s.passed for s in self.styles)

    def to_json(self) -> dict[str, Any]:
        """Return every figure and the thresholds they were judged by, JSON-ready."""
        return {
            "passed": self.passed,
            "overall": self.overall.to_json(),
            "styles": [s.to_json() for s in self.styles],
            "selfie_faces": self.selfie_faces,
            "thresholds": {
                **asdict(self.passing),
                "same_person_distance": SAME_PERSON_DISTANCE,
                "near_copy_hash_bits": NEAR_COPY_HASH_BITS,
                "near_copy_distance": NEAR_COPY_DISTANCE,
            },
        }


@dataclass(frozen=True)
class Evaluation:
    """Every image's figures and the pack's summary."""

    images: tuple[ImageResult, ...]
    summary: PackSummary

    def to_json(self) -> dict[str, Any]:
        """Return the summary with every image's figures, JSON-ready."""
        return {**self.summary.to_json(), "images": [i.to_json() for i in self.images]}


class NoSelfieFaceError(HeadshotsError):
    """No selfie shows a face, so there is no person to measure against."""


def evaluate(
    faces: FaceAnalyzer,
    selfies: Sequence[bytes],
    images: Sequence[PackImage],
    passing: Passing = DEFAULT_PASSING,
) -> Evaluation:
    """Measure each image against the person in `selfies`; summarise each style and the pack."""
    person = person_from_selfies(faces, selfies)
    if not person.faces:
        raise NoSelfieFaceError("no face found in any selfie")
    rules = SelectionRules()
    measured = [(image, _judge(faces, image, person, rules)) for image in images]
    results = tuple(_result(image, verdict) for image, verdict in measured)
    styles = tuple(dict.fromkeys(image.style for image in images))
    summary = PackSummary(
        overall=summarize(OVERALL, measured, passing),
        styles=tuple(
            summarize(s, [m for m in measured if m[0].style == s], passing) for s in styles
        ),
        selfie_faces=len(person.faces),
        passing=passing,
    )
    return Evaluation(results, summary)


def summarize(
    name: str, measured: Sequence[tuple[PackImage, Judgement | None]], passing: Passing
) -> GroupSummary:
    """Return the figures of one group of judged images (the worker's figures, plus variety)."""
    verdicts = [v for _, v in measured]
    judged = [v for v in verdicts if v is not None]
    figures = group_quality(name, verdicts, kept=sum(v.kept for v in judged))
    share = figures.same_person_share or 0.0  # no face found: none of the images is the person
    spread = variety([v.face for v in judged if v.face is not None])
    return GroupSummary(
        name=name,
        images=figures.images,
        one_face=sum(v.faces == 1 for v in judged),
        same_person_share=share,
        median_distance=figures.median_distance,
        p90_distance=figures.p90_distance,
        near_copies=figures.near_copies,
        pose_spread_deg=round(spread.pose_spread_deg, 2),
        pairwise_distance=round(spread.pairwise_distance, 4),
        low_variety=spread.low,
        passed=share >= passing.min_same_person and figures.near_copies <= passing.max_near_copies,
    )


def _judge(
    faces: FaceAnalyzer, image: PackImage, person: Person, rules: SelectionRules
) -> Judgement | None:
    try:
        rgb = decode_selfie(image.data, long_side=ANALYSIS_PX)
    except QualityError:
        return None
    return judge(faces, rgb, person, rules)


def _result(image: PackImage, verdict: Judgement | None) -> ImageResult:
    if verdict is None:
        return ImageResult(
            name=image.name,
            style=image.style,
            faces=0,
            to_centroid=None,
            to_nearest=None,
            hash_bits=None,
            yaw=None,
            pitch=None,
            same_person=False,
            near_copy=False,
            kept=False,
            note=NOTES["unreadable"],
        )
    alike, face = verdict.likeness, verdict.face
    return ImageResult(
        name=image.name,
        style=image.style,
        faces=verdict.faces,
        to_centroid=None if alike is None else round(alike.to_centroid, 4),
        to_nearest=None if alike is None else round(alike.to_nearest, 4),
        hash_bits=None if alike is None else alike.hash_bits,
        yaw=_round(face.yaw if face else None),
        pitch=_round(face.pitch if face else None),
        same_person=verdict.faces == 1 and alike is not None and alike.same_person,
        near_copy=alike is not None and alike.near_copy,
        kept=verdict.kept,
        note=_note(verdict),
    )


def _note(verdict: Judgement) -> str:
    if verdict.reason == "faces":
        return f"{verdict.faces} faces"
    if verdict.reason == "near_copy" and verdict.likeness and verdict.likeness.copy_of is not None:
        return f"near-copy of selfie {verdict.likeness.copy_of + 1}"
    return NOTES.get(verdict.reason, verdict.reason)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def pack_images(images: Sequence[GeneratedImage]) -> list[PackImage]:
    """Return the generated images as pack images named `style/seed`."""
    return [PackImage(f"{i.style_id}/{i.seed}", i.style_id, i.png) for i in images]


def summarize_pack(
    faces: FaceAnalyzer,
    selfies: Sequence[bytes],
    images: Sequence[GeneratedImage],
    passing: Passing = DEFAULT_PASSING,
) -> PackSummary:
    """Return the pack's figures and verdict (`to_json()` for a job record).

    Raises NoSelfieFaceError when no selfie shows a face (the gate lets no such set through).
    """
    return evaluate(faces, selfies, pack_images(images), passing).summary
