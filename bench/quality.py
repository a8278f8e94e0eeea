"""Time the whole quality gate (decode, checks, descriptor) per photo on one CPU core.

Run: python bench/quality.py [--runs 30]
Prints median and p95 (wall clock and process CPU time) per photo for a 12-megapixel JPEG and a
1280 px chat photo (both made by upscaling matplotlib's Grace Hopper portrait), and peak memory.
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

# The repository root replaces this folder on the path, so bench/queue.py cannot shadow `queue`.
sys.path[0] = str(Path(__file__).resolve().parent.parent)


def main() -> None:
    """Pin to one core, build the photos, time the gate on each and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import cv2

    from engine.quality import Verdict, check_photo, warm_up
    from tests import photos

    cv2.setNumThreads(1)
    portrait = photos.grace_hopper()
    cases = {
        "12 MP JPEG (3200x3750)": photos.to_bytes(portrait.resize((3200, 3750)), quality=90),
        "1280 px chat photo (1092x1280)": photos.to_bytes(
            portrait.resize((1092, 1280)), quality=87
        ),
    }
    warm_up()
    baseline_mb = _peak_rss_mb()
    tracemalloc.start()
    for name, data in cases.items():
        report = check_photo(data, "bench")
        assert report.verdict is Verdict.ACCEPTED, report.findings
        wall, cpu = _time(data, runs)
        print(
            f"{name}: {len(data) / 1e6:.1f} MB file, over {runs} runs: "
            f"wall median {statistics.median(wall):.1f} ms, p95 {_p95(wall):.1f} ms; "
            f"CPU median {statistics.median(cpu):.1f} ms, p95 {_p95(cpu):.1f} ms"
        )
    _, traced = tracemalloc.get_traced_memory()
    print(
        f"peak memory: {_peak_rss_mb():.0f} MB RSS (models loaded: {baseline_mb:.0f} MB), "
        f"{traced / 1e6:.0f} MB peak of Python/numpy allocations during a check"
    )


def _time(data: bytes, runs: int) -> tuple[list[float], list[float]]:
    """Return wall and process CPU milliseconds per check (CPU time is immune to a busy host)."""
    from engine.quality import check_photo

    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        check_photo(data, "bench")
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
