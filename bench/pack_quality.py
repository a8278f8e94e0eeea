"""The CPU face work and the quality columns of bench/gpu_pack.py, through the worker's own code.

The quality figures are the ones a worker records with every pack (`select_pack`'s measures):
the bench judges the images it rendered against the photos it used as the person. Random weights
draw no face, and the table says exactly that instead of zeros that would read as measurements.
"""

from __future__ import annotations

import io
import time
from typing import Any

from bench.pack_timing import Row

RANDOM_WEIGHTS = "no faces: random weights"


def quality_rows(
    tier: str, images: list[Any], person: list[Any], random_weights: bool
) -> list[Row]:
    """Judge `images` against the photos of `person`; return the quality rows of the table."""
    from engine.faces import FaceAnalyzer
    from engine.studio.protocol import GeneratedImage
    from engine.studio.selection import SelectionRules, select_pack

    candidates = [GeneratedImage(tier, seed, _png(image)) for seed, image in enumerate(images)]
    faces = FaceAnalyzer()
    try:
        chosen = select_pack(
            faces, candidates, selfies=[_png(p) for p in person], keep_per_style=len(candidates),
            rules=SelectionRules(), rank_faces=True,
        )  # fmt: skip
    finally:
        faces.close()
    figures, judged = chosen.quality.overall, f"quality, {len(images)} rendered image(s) judged"
    if not chosen.quality.measured:
        return [Row(tier, judged, text=RANDOM_WEIGHTS if random_weights else chosen.quality.note)]
    share = figures.same_person_share or 0.0
    return [
        Row(tier, f"{judged}: same person", text=f"{share:.0%}"),
        Row(tier, f"{judged}: median identity distance", text=f"{figures.median_distance:.3f}"),
        Row(tier, f"{judged}: near-copies", text=str(figures.near_copies)),
    ]


def face_work() -> tuple[list[Row], dict[str, float]]:
    """Time framing one selfie and judging one candidate on real photos (CPU, model-free)."""
    from engine.faces import FaceAnalyzer
    from engine.studio.preprocess import training_crops
    from engine.studio.protocol import GeneratedImage
    from engine.studio.selection import select_best
    from tests import photos

    faces = FaceAnalyzer()
    selfie = photos.to_bytes(photos.grace_hopper().resize((1024, 1200)))
    candidate = GeneratedImage("s", 0, photos.to_bytes(photos.grace_hopper(), "PNG"))
    frame, select = [], []
    for _ in range(6):
        start = time.perf_counter()
        training_crops(faces, [selfie], size=1024)
        frame.append(time.perf_counter() - start)
        start = time.perf_counter()
        select_best(faces, [candidate, candidate], selfies=[selfie], keep_per_style=1)
        select.append((time.perf_counter() - start) / 3)  # one reference plus two candidates
    faces.close()
    rows = [
        Row("both", "frame one selfie (CPU)", frame[1:]),
        Row("both", "select one candidate (CPU)", select[1:]),
    ]
    return rows, {"frame": rows[0].median(), "select": rows[1].median()}


def _png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()
