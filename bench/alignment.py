"""Measure the project's face alignment against dlib's own pipeline on real people; print the gaps.

Run: python bench/alignment.py [--portraits N] [--rows]
dlib's pipeline (its HOG detector on the whole photo, its 5-point predictor, its chip; see
tests/real_faces.py) is the reference. The project's path runs as the gate does: the photo at
analysis size, mediapipe's face, then the five points seeded from the mesh ("new") or, as before
issue 26, from mediapipe's box ("old"). The gap is the descriptor distance between the two paths.
Faces are the public sets of bench/faces/fetch.sh at their own size, and variants of the large
ones: a 12 MP photo at 0.25x-1x, framings (face 8-60% of the width), EXIF turns, a chat photo.
dlib's own noise, for scale: its descriptor of a photo against the same photo resized to 0.8x.
Only faces the gate accepts (90 px and up in the file's pixels, not turned past its pose
limits) are counted.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

# The repository root replaces this folder on the path, so bench/queue.py cannot shadow `queue`.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

MIN_FACE_PX = 90  # the gate's min_face_px


def main() -> None:
    """Measure every face and print median, p95 and worst gap per group, old against new."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--portraits", type=int, default=60, help="portraits at their own size")
    parser.add_argument("--varied", type=int, default=6, help="portraits also sent as variants")
    parser.add_argument("--rows", action="store_true", help="print every face's gaps")
    args = parser.parse_args()
    from engine.faces import FaceAnalyzer
    from tests import real_faces

    faces = FaceAnalyzer()
    reference = real_faces.DlibReference(faces)
    gaps: dict[str, list[tuple[float, float]]] = defaultdict(list)
    portraits = real_faces.photos("portraits")
    own = real_faces.photos("celebrities", "pairs") + portraits[: args.portraits]
    for photo in own:
        data = photo.path.read_bytes()
        _add(
            gaps,
            "own size",
            real_faces.alignment_gaps(faces, reference, data),
            photo.path.name,
            args.rows,
        )
        noise = dlib_noise(faces, reference, data)
        if noise is not None:
            gaps["dlib itself at 0.8x"].append((noise, noise))
    for photo in real_faces.photos("pairs") + portraits[-args.varied :]:
        face_px = faces.detect(real_faces.upright(photo.path.read_bytes()))[0].width
        for name, data in real_faces.variants(photo.path, face_px):
            row = f"{photo.path.name} {name}"
            _add(
                gaps,
                name.split()[0],
                real_faces.alignment_gaps(faces, reference, data),
                row,
                args.rows,
            )
    _print(gaps)
    faces.close()


def dlib_noise(faces: Any, reference: Any, data: bytes) -> float | None:
    """Return how far dlib's own descriptor moves when the photo is resized to 0.8x."""
    from PIL import Image

    full = _upright(data)
    boxes = faces.detect(full)
    if not boxes or boxes[0].side < MIN_FACE_PX:
        return None
    image = Image.fromarray(full)
    small = np.asarray(image.resize((round(image.width * 0.8), round(image.height * 0.8))))
    centre = boxes[0].center
    one = reference.descriptor(full, centre)
    two = reference.descriptor(np.ascontiguousarray(small), (centre[0] * 0.8, centre[1] * 0.8))
    return None if one is None or two is None else _distance(one, two)


def _upright(data: bytes) -> Any:
    from tests.real_faces import upright

    return upright(data)


def _distance(one: Any, two: Any) -> float:
    return float(np.linalg.norm(np.asarray(one) - np.asarray(two)))


def _add(
    gaps: dict[str, list[tuple[float, float]]], group: str, found: Any, row: str, rows: bool
) -> None:
    if found is None:
        gaps["(no face or no reference)"].append((0.0, 0.0))
        return
    if rows:
        print(f"{row[-48:]:48} {found.face_px:6.0f} px  old {found.old:.3f}  new {found.new:.3f}")
    name = group if found.gated else f"(under {MIN_FACE_PX} px or turned)"
    gaps[name].append((found.old, found.new))


def _print(gaps: dict[str, list[tuple[float, float]]]) -> None:
    print(f"\n{'group':26} {'faces':>5}   {'median':>13} {'p95':>13} {'worst':>13}  over 0.2")
    print(f"{'':26} {'':5}   {'old':>6} {'new':>6} {'old':>6} {'new':>6} {'old':>6} {'new':>6}")
    counted = [
        pair
        for group, pairs in gaps.items()
        if not group.startswith(("(", "dlib"))
        for pair in pairs
    ]
    for group, pairs in [*gaps.items(), ("all counted", counted)]:
        if group.startswith("(") or not pairs:
            print(f"{group:26} {len(pairs):5}")
            continue
        values = np.array(pairs)
        median, p95, worst = np.median(values, 0), np.percentile(values, 95, axis=0), values.max(0)
        over = (values > 0.2).sum(0)
        print(
            f"{group:26} {len(pairs):5}   {median[0]:6.3f} {median[1]:6.3f} {p95[0]:6.3f}"
            f" {p95[1]:6.3f} {worst[0]:6.3f} {worst[1]:6.3f}  {over[0]:3d} {over[1]:3d}"
        )


if __name__ == "__main__":
    main()
