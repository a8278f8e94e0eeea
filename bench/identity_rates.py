"""Same-person and different-person distances on real people, and the rates of each threshold.

Used by bench/calibrate_gate.py. The sets (bench/faces/fetch.sh, tests/real_faces.py): 5 people
with 19-27 web photos each taken years apart ("celebrities"), 40 people with 10 small grey photos
each ("orl"), two people photographed years apart plus two impostors ("pairs"), and 609 different
people with one official portrait each ("portraits", different-person pairs only). Every
descriptor comes from the project's own path (the gate's analysis pixels, the mesh-seeded five
points). Two kinds of distance are measured:

- pairwise, one photo against another;
- a photo's mean distance to a group of 5 photos of the person: the average linkage the gate's
  grouping (people.py) cuts at `same_person_distance`;
- to a centroid of 5 photos of the person, against another photo of them or a stranger's: what
  the selection and `headshots evaluate` compare a render with.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float64]
SETS = ("celebrities", "orl", "pairs", "portraits")
CUTS = tuple(round(0.40 + 0.025 * step, 3) for step in range(13))  # 0.40 .. 0.70
CENTROID_OF = 5  # selfies behind a centroid: the fewest a pack asks for
DRAWS = 20  # centroids drawn per person
ROC_PNG = Path(__file__).resolve().parent.parent / "docs" / "calibration-roc.png"


@dataclass
class Distances:
    """Distances of one set: same person, different people."""

    same: list[float]
    different: list[float]

    def rates(self, cut: float) -> tuple[float, float]:
        """Return (false-reject rate, false-accept rate) of a same-person cut `distance <= cut`."""
        same, other = np.asarray(self.same), np.asarray(self.different)
        frr = float((same > cut).mean()) if len(same) else float("nan")
        far = float((other <= cut).mean()) if len(other) else float("nan")
        return frr, far


def load_descriptors(faces: Any) -> dict[str, list[tuple[str, Vector]]]:
    """Return (person, descriptor) per set, for every photo whose face was found."""
    from tests.real_faces import photos, project_descriptor

    found: dict[str, list[tuple[str, Vector]]] = defaultdict(list)
    missed: dict[str, int] = defaultdict(int)
    for photo in photos(*SETS):
        vector = project_descriptor(faces, photo.path.read_bytes())
        if vector is None:
            missed[photo.set] += 1
        else:
            found[photo.set].append((photo.person, vector))
    for name in SETS:
        print(f"  {name:12} {len(found[name]):4} faces, {missed[name]} photos without one")
    return found


def pairwise(rows: list[tuple[str, Vector]], strangers: list[tuple[str, Vector]]) -> Distances:
    """Return every pair's distance within `rows`, and each row against every stranger."""
    same, different = [], []
    for (one, first), (two, second) in combinations(rows, 2):
        (same if one == two else different).append(_distance(first, second))
    for _, first in rows:
        different += [_distance(first, second) for _, second in strangers]
    return Distances(same, different)


def to_centroids(
    rows: list[tuple[str, Vector]], strangers: list[tuple[str, Vector]], seed: int = 26
) -> Distances:
    """Return distances to centroids of CENTROID_OF photos of a person: their others, strangers'."""
    return _against_groups(rows, strangers, seed, _to_centroid)


def to_groups(
    rows: list[tuple[str, Vector]], strangers: list[tuple[str, Vector]], seed: int = 26
) -> Distances:
    """Return mean distances to groups of CENTROID_OF photos: the gate's average linkage."""
    return _against_groups(rows, strangers, seed, _to_group)


def _against_groups(
    rows: list[tuple[str, Vector]], strangers: list[tuple[str, Vector]], seed: int, measure: Any
) -> Distances:
    draw = random.Random(seed)
    people: dict[str, list[Vector]] = defaultdict(list)
    for person, vector in rows:
        people[person].append(vector)
    others = [vector for _, vector in strangers]
    same, different = [], []
    for person, vectors in people.items():
        if len(vectors) <= CENTROID_OF:
            continue
        rest = np.array(
            [v for name, group in people.items() if name != person for v in group] + others
        )
        for _ in range(DRAWS):
            order = draw.sample(range(len(vectors)), len(vectors))
            group = np.array([vectors[i] for i in order[:CENTROID_OF]])
            same += measure(np.array([vectors[i] for i in order[CENTROID_OF:]]), group)
            different += measure(rest, group)
    return Distances(same, different)


def _to_centroid(vectors: NDArray[np.float64], group: NDArray[np.float64]) -> list[float]:
    return [float(v) for v in np.linalg.norm(vectors - group.mean(axis=0), axis=1)]


def _to_group(vectors: NDArray[np.float64], group: NDArray[np.float64]) -> list[float]:
    distances = np.linalg.norm(vectors[:, None] - group[None], axis=2)
    return [float(v) for v in distances.mean(axis=1)]


def print_rates(title: str, by_set: dict[str, Distances]) -> None:
    """Print the distributions and FRR/FAR per cut for each set."""
    print(f"\n{title}")
    for name, found in by_set.items():
        print(f"  {name:24} same {_spread(found.same)}   different {_spread(found.different)}")
    print("  cut   " + "".join(f"{name[:20]:>22}" for name in by_set))
    print("        " + "".join(f"{'FRR':>11}{'FAR':>11}" for _ in by_set))
    for cut in CUTS:
        cells = "".join(_cell(found.rates(cut)) for found in by_set.values())
        print(f"  {cut:.3f}" + cells)


def print_chosen(uses: list[tuple[str, float, dict[str, Distances]]]) -> None:
    """Print the rates at each use's chosen threshold, per set."""
    print("\nrates at the chosen thresholds (engine/quality/thresholds.py):")
    for use, cut, by_set in uses:
        print(f"  {use} = {cut}")
        for name, found in by_set.items():
            frr, far = found.rates(cut)
            pairs = f"({len(found.same)} same, {len(found.different)} different)"
            print(f"    {name:24} FRR {_percent(frr):>7}  FAR {_percent(far):>7}  {pairs}")


def plot_roc(curves: dict[str, tuple[Distances, float | None]], path: Path = ROC_PNG) -> Path:
    """Write the ROC curves (true-accept against false-accept rate), each with its chosen cut."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 5), dpi=110)
    cuts = np.linspace(0.2, 0.9, 141)
    for name, (found, chosen) in curves.items():
        rates = np.array([found.rates(cut) for cut in cuts])
        (line,) = axes.plot(np.maximum(rates[:, 1], 1e-5), 1 - rates[:, 0], label=name)
        if chosen is not None:
            frr, far = found.rates(chosen)
            axes.plot(max(far, 1e-5), 1 - frr, "o", color=line.get_color(), markersize=6)
    axes.set_xscale("log")
    axes.set_xlabel("false-accept rate (a stranger taken for the person; 1e-5 stands for 0)")
    axes.set_ylabel("true-accept rate (the person recognised)")
    axes.set_title("dlib descriptor on real people; dots: each use's chosen cut", fontsize=9)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7, loc="lower right")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def _distance(one: Vector, two: Vector) -> float:
    return float(np.linalg.norm(one - two))


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    p5, p50, p95 = np.percentile(values, [5, 50, 95])
    return f"p5 {p5:.3f} median {p50:.3f} p95 {p95:.3f} ({len(values)})"


def _cell(rates: tuple[float, float]) -> str:
    return "".join(f"{_percent(rate):>11}" for rate in rates)


def _percent(rate: float) -> str:
    return "-" if np.isnan(rate) else f"{rate:.2%}"
