"""The project's face alignment against dlib's own pipeline, on real people's photos.

dlib's pipeline (its HOG detector on the file's pixels, its 5-point predictor and its own
compute_face_descriptor; tests/dlib_reference.py) is the reference. The project's descriptor,
by the gate's path, must stay within 0.2 of it whatever the size (a 12 MP photo at 0.25x-1x),
framing (face 8-60% of the width) and EXIF orientation of the photo, and whether it comes as a
file or as a 1280 px chat photo; and its gaps' p95 must be no larger than dlib's own p95 when a
photo is only resized to 0.8x. That noise reaches ~0.2 (bench/alignment.py), so 0.2 is the noise
floor, not a loose bound: the misaligned chips of issue 26 were 0.67-0.80 away.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from engine.faces import FaceAnalyzer
from tests import real_faces
from tests.dlib_reference import DlibReference, Gaps, alignment_gaps
from tests.real_faces import upright

MAX_GAP = 0.2
SENT = ("person_a_2.jpg", "person_b_1.jpg", "impostor_2.jpg")  # the CC pairs' large photos
# Every variant tests/real_faces.variants makes of one photo, by kind.
KINDS = {"large": 5, "framed": 4, "exif": 3, "chat": 1}  # x1-x0.25; 8-60%; 3, 6, 8; 1280 px


@pytest.fixture(scope="module")
def reference() -> DlibReference:
    return DlibReference()


@pytest.fixture(scope="module")
def sent(real_faces_dir: Path, analyzer: FaceAnalyzer, reference: DlibReference) -> dict[str, Gaps]:
    """Gaps of every way of sending three photos, by 'photo variant'."""
    found = {}
    for name in SENT:
        path = real_faces_dir / "pairs" / name
        face_px = analyzer.detect(upright(path.read_bytes()))[0].width
        for variant, data in real_faces.variants(path, face_px):
            gaps = alignment_gaps(analyzer, reference, data)
            assert gaps is not None, f"no face or no reference face in {name} {variant}"
            found[f"{name} {variant}"] = gaps
    return found


@pytest.fixture(scope="module")
def own_size(
    real_faces_dir: Path, analyzer: FaceAnalyzer, reference: DlibReference
) -> dict[str, Gaps]:
    """Gaps of the web photos, the pairs and some portraits as they are, with dlib's own noise.

    The pool bench/alignment.py measures (fewer portraits): a p95 needs some hundred faces, and
    the web photos years apart, small and varied, are where dlib's own descriptor moves most.
    """
    photos = real_faces.photos("celebrities", "pairs") + real_faces.photos("portraits")[:24]
    found = {}
    for photo in photos:
        gaps = alignment_gaps(analyzer, reference, photo.path.read_bytes(), noise=True)
        if gaps is not None and gaps.gated:
            found[photo.path.name[-32:]] = gaps
    return found


def test_every_way_of_sending_a_photo_aligns_the_face_like_dlib(sent: dict[str, Gaps]) -> None:
    kinds = Counter(key.split()[1] for key in sent)
    assert kinds == {kind: count * len(SENT) for kind, count in KINDS.items()}
    assert all(gaps.gated for gaps in sent.values())
    far = {key: round(gaps.new, 3) for key, gaps in sent.items() if gaps.new > MAX_GAP}
    assert far == {}, far
    # The set holds issue 26's failure: mediapipe's box as the seed put a small face's points
    # off it (framed 8%), so the bound above is one the old path broke.
    assert max(gaps.old for gaps in sent.values()) > MAX_GAP


def test_photos_at_their_own_size_align_like_dlib(own_size: dict[str, Gaps]) -> None:
    assert len(own_size) >= 40
    far = {key: round(gaps.new, 3) for key, gaps in own_size.items() if gaps.new > MAX_GAP}
    assert far == {}, far


def test_the_gaps_stay_within_dlibs_own_noise_when_a_photo_is_resized(
    sent: dict[str, Gaps], own_size: dict[str, Gaps]
) -> None:
    gaps = [found.new for found in [*sent.values(), *own_size.values()]]
    noise = [found.noise for found in own_size.values() if found.noise is not None]
    assert len(noise) >= 40
    ours, dlibs = np.percentile(gaps, 95), np.percentile(noise, 95)
    assert ours <= dlibs, f"p95 {ours:.3f} over dlib's own {dlibs:.3f} at 0.8x"
