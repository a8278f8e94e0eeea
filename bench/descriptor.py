"""Time the face descriptor on one core: dlib's own network against ours (the same weights).

Run: python bench/descriptor.py [--runs 30] [--against OLD_CHECKOUT]
Prints, for the aligned 150 px chips of the shipped portraits, the median CPU milliseconds of
dlib's compute_face_descriptor and of engine.faces.resnet, their ratio, and the largest
difference between the two descriptors (they should agree to about 1e-6). With --against, runs
the same on an old checkout first and prints old, new and new/old (bench/against.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The repository root replaces this folder on the path, so bench/queue.py cannot shadow `queue`.
sys.path[0] = str(Path(__file__).resolve().parent.parent)
from bench import against  # noqa: E402

sys.path[0] = str(against.code_root(Path(sys.path[0])))

WEIGHTS = "dlib_face_recognition_resnet_model_v1.dat"


def main() -> None:
    """Pin to one core and one BLAS thread, make the chips, time both networks on each."""
    old = against.against()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    if old is not None:
        against.compare(__file__, old)
        return
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import dlib
    import numpy as np
    from threadpoolctl import threadpool_limits

    from engine.faces import FaceAnalyzer, dlib_models_dir
    from engine.faces.resnet import CHIP_PX, FaceResNet
    from tests import photos

    threadpool_limits(limits=1)  # as in the image pool's children
    faces = FaceAnalyzer()
    theirs = dlib.face_recognition_model_v1(str(dlib_models_dir() / WEIGHTS))
    ours = FaceResNet.from_file(dlib_models_dir() / WEIGHTS)
    figures = {}
    for name, image in {"astronaut": photos.astronaut(), "hopper": photos.grace_hopper()}.items():
        rgb = np.ascontiguousarray(photos.as_array(image))
        shape = faces.five_points(rgb, faces.detect(rgb)[0])
        chip = np.asarray(dlib.get_face_chip(rgb, shape, CHIP_PX, 0.25))
        gap = np.abs(ours.descriptor(chip) - np.array(theirs.compute_face_descriptor(chip)))
        dlib_ms = _median_ms(theirs.compute_face_descriptor, chip, runs)
        ours_ms = _median_ms(ours.descriptor, chip, runs)
        print(
            f"{name}: dlib {dlib_ms:.1f} ms, ours {ours_ms:.1f} ms "
            f"({dlib_ms / ours_ms:.1f}x), largest difference {gap.max():.1e}"
        )
        figures |= {f"{name}: dlib ms": dlib_ms, f"{name}: ours ms": ours_ms}
    faces.close()
    against.record(figures)


def _median_ms(call: Callable[[Any], object], chip: Any, runs: int) -> float:
    """Return the median process CPU milliseconds of `call(chip)`, after one warm-up call."""
    call(chip)
    times = []
    for _ in range(runs):
        start = time.process_time()
        call(chip)
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    main()
