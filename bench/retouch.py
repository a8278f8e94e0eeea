"""Time the instant retouch per photo on one core: a 1280 px chat photo and a 12 MP selfie.

Run: `.venv/bin/python bench/retouch.py [--runs 15] [--against OLD_CHECKOUT]`. Prints median and
p95 seconds per headshot, wall clock and process CPU time (decode, analysis, framing, matte, light,
skin, sharpening, composite and JPEG encode included) and the peak memory of one retouch. With
--against, runs the same on an old checkout first and prints old, new and new/old
(bench/against.py).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from PIL import Image

sys.path[0] = str(Path(__file__).resolve().parent.parent)
from bench import against  # noqa: E402

sys.path[0] = str(against.code_root(Path(sys.path[0])))


def main() -> None:
    """Print the figures."""
    old = against.against()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    if old is not None:
        against.compare(__file__, old)
        return
    _one_core()

    from engine.retouch.pool import build_retoucher
    from tests.photos import grace_hopper, to_bytes

    retoucher = build_retoucher()
    models_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    photos = {
        "chat 1280 px": to_bytes(_grainy(grace_hopper().resize((1092, 1280)))),
        "12 MP selfie": to_bytes(_grainy(grace_hopper().resize((3000, 4000)))),
    }
    figures: dict[str, float] = {}
    for label, data in photos.items():
        retoucher.retouch(data)  # warm caches and lazy model set-up
        times, cpu = [], []
        for _ in range(args.runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            retoucher.retouch(data)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        tracemalloc.start()
        retoucher.retouch(data)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        p95 = statistics.quantiles(times, n=20)[-1]
        print(
            f"{label:13} {len(data) / 1e6:5.1f} MB  median {statistics.median(times):.3f} s"
            f"  p95 {p95:.3f} s  CPU median {statistics.median(cpu):.3f} s"
            f"  peak memory of one retouch {peak / 2**20:.0f} MiB"
        )
        figures |= {f"{label}: wall median ms": statistics.median(times) * 1000,
                    f"{label}: wall p95 ms": p95 * 1000,
                    f"{label}: CPU median ms": statistics.median(cpu) * 1000}  # fmt: skip
    print(
        f"process RSS with the models loaded {models_mib:.0f} MiB; {args.runs} runs each, one core"
    )
    against.record(figures)


def _grainy(image: Image.Image) -> Image.Image:
    # An enlarged photo is smoother than a camera's; sensor-like grain gives a realistic file size.
    rng = np.random.default_rng(0)
    noise = rng.integers(-6, 7, (image.height, image.width, 1), dtype=np.int16)
    return Image.fromarray(np.clip(np.asarray(image) + noise, 0, 255).astype(np.uint8))


def _one_core() -> None:
    for name in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]:
        os.environ[name] = "1"
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import cv2

    cv2.setNumThreads(1)


if __name__ == "__main__":
    main()
