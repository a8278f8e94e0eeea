"""Time both tiers on a bare GPU host: random weights of the real architectures, no download.

Run on the GPU host (bench/device/run.sh does it):  python bench/gpu_timing.py --out DIR
Run here (no GPU):  python bench/gpu_timing.py --tiny --out DIR  (the same path, tiny models)

Imports only torch, diffusers, transformers, peft, safetensors, numpy and pillow (and this
project's engine pieces that need no more): no settings, no face stack, no test photos, so it
runs where bench/gpu_pack.py cannot. Builds FLUX.2 [klein] 4B and SDXL from their published
configs (bench/pack_express.py, bench/pack_studio.py), keeps both resident as a two-tier worker
does, and logs every row to DIR/gpu-timing.json and DIR/gpu-timing.md as it is measured. A
whole-run budget (8 minutes by default) skips what no longer fits, and a watchdog ends the run
past it: a killed run keeps every row it finished. `--tiny` figures say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.pack_timing import Row  # noqa: E402  (after the path is set)
from bench.run_options import BenchOptions  # noqa: E402
from bench.timing_log import RowLog  # noqa: E402
from bench.timing_run import TimingRun, gib_allocated  # noqa: E402

BUDGET_S = 480  # the 8 minutes on one H100
WATCHDOG_GRACE_S = 45  # a row started just inside the budget may finish; then the run ends


def main(argv: list[str] | None = None) -> int:
    """Build both tiers, time them row by row within the budget, project a pack per tier."""
    args = _parser().parse_args(argv)
    import torch

    if not args.tiny and not torch.cuda.is_available():
        print("no CUDA device: run on a GPU host, or pass --tiny for the CPU smoke figures")
        return 2
    if args.tiny:
        torch.set_num_threads(1)  # two threads made tiny timings erratic (REFERENCE.md)
    opts = _options(args)
    log = RowLog(Path(args.out), _title(args.tiny), _meta(args))
    _watchdog(log, args.budget_s + args.watchdog_grace_s)
    run = TimingRun(opts, log, args.budget_s, args.compile_backend)
    _measure(run, compile_too=not args.no_compile)
    log.note(
        f"run took {time.perf_counter() - opts.started:.0f} s of its {args.budget_s:g} s budget"
    )
    return 0


def _measure(run: TimingRun, *, compile_too: bool) -> None:
    from bench import timing_express, timing_studio
    from bench.pack_express import express_pipeline
    from bench.pack_studio import studio_pipeline
    from bench.timing_projection import project

    express = _built(run, "express", lambda: express_pipeline(run.opts))
    refs = timing_express.express_rows(run, express)
    studio = _built(run, "studio", lambda: studio_pipeline(run.opts))  # beside the express one
    held = gib_allocated(run.opts.device)
    text = "both pipelines resident" + ("" if held is None else f": {held:.1f} GiB allocated")
    run.log.add(Row("both", "express + studio weights on one device", text=text))
    trained = timing_studio.training_rows(run, studio)
    timing_studio.render_rows(run, studio, trained)
    project(run.log, "eager")
    if compile_too:
        timing_express.compiled_rows(run, express, refs)
        timing_studio.compiled_rows(run, studio, trained)
        project(run.log, "best of eager and compiled")


def _built(run: TimingRun, tier: str, build: Any) -> Any:
    start = time.perf_counter()
    pipe = build()
    pipe.set_progress_bar_config(disable=True)
    run.log.add(Row(tier, "build the pipeline (random weights)", [time.perf_counter() - start],
                    gib_allocated(run.opts.device)))  # fmt: skip
    return pipe


def _watchdog(log: RowLog, after_s: float) -> None:
    """End the process past the budget: the rows written so far stay on disk."""

    def stop() -> None:
        log.note(f"stopped by the watchdog after {after_s:.0f} s: the rows above are complete")
        os._exit(3)

    timer = threading.Timer(after_s, stop)
    timer.daemon = True
    timer.start()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny random models on the CPU")
    parser.add_argument("--out", required=True, help="folder for gpu-timing.json and .md")
    parser.add_argument("--budget-s", type=float, default=BUDGET_S)
    parser.add_argument("--watchdog-grace-s", type=float, default=WATCHDOG_GRACE_S)
    parser.add_argument("--no-compile", action="store_true", help="skip the compiled rows")
    parser.add_argument(
        "--compile-backend", default="inductor", help="torch.compile backend ('eager' in tests)"
    )
    parser.add_argument("--train-steps", type=int, help="timed training steps (10; tiny 3)")
    return parser


def _options(args: argparse.Namespace) -> BenchOptions:
    tiny = bool(args.tiny)
    steps = args.train_steps or (3 if tiny else 10)
    scratch = Path(tempfile.mkdtemp(prefix="gpu-timing-"))
    return BenchOptions(tiny=tiny, scratch=scratch, refs=3, ref_px=64 if tiny else 512,
                        runs=1 if tiny else 2, train_steps=steps)  # fmt: skip


def _title(tiny: bool) -> str:
    if tiny:
        return "tiny random models on the CPU (1 thread): NOT GPU figures"
    import torch

    return f"{torch.cuda.get_device_name()}, bf16, real architectures, random weights"


def _meta(args: argparse.Namespace) -> dict[str, Any]:
    import diffusers
    import peft
    import torch
    import transformers

    return {
        "date (UTC)": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "device": "CPU" if args.tiny else torch.cuda.get_device_name(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "budget (s)": args.budget_s,
    }


if __name__ == "__main__":
    sys.exit(main())
