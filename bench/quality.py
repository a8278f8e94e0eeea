"""Time the whole quality gate (decode, checks, descriptor) per photo on one CPU core.

Run: python bench/quality.py [--runs 30] [--against OLD_CHECKOUT]
Prints median and p95 (wall clock and process CPU time) per photo for a 12-megapixel JPEG and a
1280 px chat photo (both made by upscaling matplotlib's Grace Hopper portrait) and for the 512 px
astronaut, whose small face makes the gate look for other people on tiles; the median CPU time
of each stage (decode, faces: detection and tiles, mesh, descriptor, the rest: measures, hash,
checks), and peak memory. With --against, runs the same on an old checkout first and prints old,
new and new/old (bench/against.py).
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
from bench import against  # noqa: E402

sys.path[0] = str(against.code_root(Path(sys.path[0])))


def main() -> None:
    """Pin to one core, build the photos, time the gate on each and print the figures."""
    old = against.against()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    if old is not None:
        against.compare(__file__, old)
        return
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import cv2
    from threadpoolctl import threadpool_limits

    from engine.quality import Verdict, check_photo, warm_up
    from tests import photos

    cv2.setNumThreads(1)
    threadpool_limits(limits=1)  # numpy's BLAS, as in the image pool
    portrait = photos.grace_hopper()
    cases = {
        "12 MP JPEG (3200x3750)": photos.to_bytes(portrait.resize((3200, 3750)), quality=90),
        "1280 px chat photo (1092x1280)": photos.to_bytes(
            portrait.resize((1092, 1280)), quality=87
        ),
        # A face a fifth of the frame: the gate also looks for people on tiles (crowd.py).
        "512 px selfie, small face (astronaut)": photos.to_bytes(photos.astronaut(), quality=87),
    }
    warm_up()
    baseline_mb = _peak_rss_mb()
    figures: dict[str, float] = {}
    for name, data in cases.items():
        report = check_photo(data, "bench")
        assert report.verdict is Verdict.ACCEPTED, report.findings
        wall, cpu = _time(data, runs)
        print(
            f"{name}: {len(data) / 1e6:.1f} MB file, over {runs} runs: "
            f"wall median {statistics.median(wall):.1f} ms, p95 {_p95(wall):.1f} ms; "
            f"CPU median {statistics.median(cpu):.1f} ms, p95 {_p95(cpu):.1f} ms"
        )
        stages = _stages(data, runs, statistics.median(cpu))
        print("  CPU per stage: " + ", ".join(f"{k} {v:.1f} ms" for k, v in stages.items()))
        short = name.split(" (")[0]
        figures |= {f"{short}: CPU median ms": statistics.median(cpu), f"{short}: CPU p95 ms":
                    _p95(cpu), f"{short}: wall median ms": statistics.median(wall)}  # fmt: skip
        figures |= {f"{short}: {stage} ms": value for stage, value in stages.items()}
    # Traced on its own: tracemalloc slows every allocation, so it stays out of the timings.
    tracemalloc.start()
    check_photo(cases["12 MP JPEG (3200x3750)"], "bench")
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak memory: {_peak_rss_mb():.0f} MB RSS (models loaded: {baseline_mb:.0f} MB), "
        f"{traced / 1e6:.0f} MB peak of Python/numpy allocations during a 12 MP check"
    )
    against.record(figures)


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


def _stages(data: bytes, runs: int, total_ms: float) -> dict[str, float]:
    """Return the median CPU milliseconds of each stage of the gate, run on their own."""
    from engine.quality.crowd import find_people
    from engine.quality.decode import decode
    from engine.quality.gate import process_analyzer
    from engine.quality.thresholds import DEFAULT_THRESHOLDS

    faces = process_analyzer()
    times: dict[str, list[float]] = {"decode": [], "faces": [], "mesh": [], "descriptor": []}
    for _ in range(runs):
        marks = [time.process_time()]
        rgb = decode(data, DEFAULT_THRESHOLDS).rgb
        marks.append(time.process_time())
        box = find_people(faces, rgb, DEFAULT_THRESHOLDS).boxes[0]
        marks.append(time.process_time())
        faces.landmarks(rgb, box)
        marks.append(time.process_time())
        faces.descriptor(rgb, box)
        marks.append(time.process_time())
        for name, start, end in zip(times, marks, marks[1:], strict=False):
            times[name].append((end - start) * 1000)
    medians = {name: statistics.median(values) for name, values in times.items()}
    return medians | {"rest": max(total_ms - sum(medians.values()), 0.0)}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
