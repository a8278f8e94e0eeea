"""Measure the gate on its calibration set and print the range of every measure per variant kind.

Run: python bench/calibrate_gate.py [--rows] [--identity]
The identity check is calibrated on real people (bench/identity_rates.py: public sets of web
photos taken years apart, grey photos, official portraits): same- and different-person distance
distributions, false-reject and false-accept rates per threshold, the rates at the chosen
thresholds and a ROC plot (docs/calibration-roc.png). `--identity` measures only that part.
The rest of the set (tests/variety.py) varies the shipped portraits in code: framings,
rotations, tilts, scales, JPEG qualities and relighting; group shots of 2-30 people test the
people count. Rerun
it when a threshold in engine/quality/thresholds.py changes, and copy the ranges it prints into
that threshold's comment.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

# The repository root replaces this folder on the path, so bench/queue.py cannot shadow `queue`.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

MEASURES = ("yaw", "pitch", "roll", "sharpness", "brightness", "clipped", "backlight")


def main() -> None:
    """Check every copy, print a row per copy (--rows) and the ranges per kind."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", action="store_true", help="also print every copy's figures")
    parser.add_argument("--identity", action="store_true", help="only the real people's rates")
    args = parser.parse_args()
    if args.identity:
        _print_real_people()
        return
    rows = args.rows
    from engine.faces import FaceAnalyzer
    from engine.quality import check_photo
    from engine.quality.identity import descriptor_distance, hash_distance
    from tests import photos, variety

    faces = FaceAnalyzer()

    def face_box(image: object) -> tuple[float, float, float]:
        box = faces.detect(photos.as_array(image))[0]  # type: ignore[arg-type]
        return (*box.center, box.side)

    ranges: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    verdicts: dict[str, list[str]] = defaultdict(list)
    originals = {}
    accepted: list[tuple[str, Any]] = []
    for kind, name, image in variety.calibration_set(face_box):
        report = check_photo(photos.to_bytes(image.convert("RGB")), name, analyzer=faces)
        codes = ",".join(f"{f.code}:{f.severity}" for f in report.findings) or "accepted"
        verdicts[kind].append(f"{name}={codes}")
        for measure in MEASURES:
            if measure in report.scores:
                ranges[kind][measure].append(report.scores[measure])
        person = name.split()[0]
        if report.face:
            accepted.append((person, report.face))
        if kind == "original" and report.face:
            originals[person] = report.face
        elif report.face and person in originals:
            first = originals[person]
            ranges[kind]["descriptor"].append(
                descriptor_distance(first.descriptor, report.face.descriptor)
            )
            ranges[kind]["hash"].append(hash_distance(first.face_hash, report.face.face_hash))
        if rows:
            figures = " ".join(f"{m}={report.scores.get(m, float('nan')):.2f}" for m in MEASURES)
            print(f"{kind:9} {name:24} {codes:40} {figures}")
    for kind, measures in ranges.items():
        print(f"\n{kind}:")
        for measure, values in measures.items():
            print(
                f"  {measure:11} {min(values):8.2f} .. {max(values):8.2f}  ({len(values)} photos)"
            )
        print("  verdicts:   " + "; ".join(verdicts[kind]))
    _print_identity(accepted, descriptor_distance)
    _print_groups(faces)
    faces.close()
    _print_real_people()


def _print_real_people() -> None:
    """Print the identity rates on real people at every cut and at the chosen ones; plot the ROC."""
    from bench import identity_rates as rates
    from engine.faces import FaceAnalyzer
    from engine.quality.thresholds import DEFAULT_THRESHOLDS as T

    faces = FaceAnalyzer()
    print("\nreal people (bench/faces/fetch.sh), descriptors by the gate's path:")
    found = rates.load_descriptors(faces)
    faces.close()
    strangers = found["portraits"]
    pairwise = {
        "celebrities": rates.pairwise(found["celebrities"], []),
        "orl": rates.pairwise(found["orl"], []),
        "pairs": rates.pairwise(found["pairs"], []),
        "portraits": rates.pairwise(strangers, []),
        "celebrities vs portraits": rates.pairwise(found["celebrities"], strangers),
    }
    group = {
        "celebrities": rates.to_groups(found["celebrities"], strangers),
        "orl": rates.to_groups(found["orl"], strangers),
    }
    centroid = {
        "celebrities": rates.to_centroids(found["celebrities"], strangers),
        "orl": rates.to_centroids(found["orl"], strangers),
    }
    rates.print_rates("photo against photo:", pairwise)
    rates.print_rates("photo against a group of 5, mean distance (the gate's grouping):", group)
    rates.print_rates("photo against a centroid of 5 (selection, evaluate):", centroid)
    rates.print_chosen(
        [
            ("same_person_distance (gate, mean to a group)", T.same_person_distance, group),
            ("same_person_distance (photo vs photo)", T.same_person_distance, pairwise),
            ("selection_max_distance (vs centroid)", T.selection_max_distance, centroid),
            (
                "evaluate_same_person_distance (vs centroid)",
                T.evaluate_same_person_distance,
                centroid,
            ),
        ]
    )
    gate, selection = T.same_person_distance, T.selection_max_distance
    curves = {f"{name}, photo vs photo": (d, None) for name, d in pairwise.items()}
    curves |= {f"{name}, mean to 5 (gate {gate})": (d, gate) for name, d in group.items()}
    curves |= {f"{name}, to centroid of 5 (selection {selection})": (d, selection)
               for name, d in centroid.items()}  # fmt: skip
    curves.pop("portraits, photo vs photo")  # strangers only: no curve
    print(f"\nROC written to {rates.plot_roc(curves)}")


def _print_identity(accepted: list[tuple[str, Any]], distance: Any) -> None:
    """Print the descriptor distances within one person and between people, over good copies."""
    same, other = [], []
    for n, (person, face) in enumerate(accepted):
        for second, face2 in accepted[n + 1 :]:
            value = distance(face.descriptor, face2.descriptor)
            (same if person == second else other).append(value)
    print(f"\nidentity over {len(accepted)} accepted copies:")
    print(f"  same person    {min(same):.3f} .. {max(same):.3f}  ({len(same)} pairs)")
    print(f"  other people   {min(other):.3f} .. {max(other):.3f}  ({len(other)} pairs)")


def _print_groups(faces: Any) -> None:
    """Print how group shots fare: the first pass's face count, and what the gate says.

    The share of the short side of a lone first-pass face is what `crowd_look_below` must
    exceed; every group shot must be answered "multiple_faces".
    """
    from engine.quality import check_photo
    from engine.quality.decode import decode
    from engine.quality.thresholds import DEFAULT_THRESHOLDS as T
    from tests import photos, variety

    lone, missed, shots = [], [], 0
    for people in (2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 30):
        for columns in (c for c in (2, 3, 4, 5, 6, 8, 10) if c <= people):
            for cell_px in (150, 200, 250, 300, 400):
                image = variety.group_photo(people, columns, cell_px)
                if min(image.size) < T.min_side_px:
                    continue
                data = photos.to_bytes(image)
                rgb = decode(data, T).rgb
                first = [b for b in faces.detect(rgb) if b.score >= T.min_face_score]
                if len(first) == 1:
                    lone.append(first[0].side / min(rgb.shape[:2]))
                shots += 1
                if "multiple_faces" not in check_photo(data, "group", analyzer=faces).codes:
                    missed.append(f"{people} people, {columns} a row, {cell_px} px")
    print(f"\ngroup shots: {shots}, of which the first pass found one face in {len(lone)}")
    if lone:
        print(f"  that face's share of the short side  {min(lone):.3f} .. {max(lone):.3f}")
    print(f"  not answered as several people: {missed or 'none'}")


if __name__ == "__main__":
    main()
