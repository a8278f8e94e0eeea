"""The bare-host timing path (bench/gpu_timing.py) on the tiny models, the CPU stack absent."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.pack_timing import Row
from bench.run_options import BenchOptions
from bench.timing_log import RowLog
from bench.timing_run import TimingRun
from bench.timing_studio import recipe
from core.settings import Settings
from engine.studio.lora.backend import train_config

ROOT = Path(__file__).resolve().parent.parent


def _bare_run(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = str(ROOT / "bench" / "gpu_timing.py")
    command = [sys.executable, str(ROOT / "tests" / "bare_host.py"), script, "--tiny", "--out",
               str(out), *args]  # fmt: skip
    return subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=600, cwd=ROOT
    )


def _rows(out: Path) -> tuple[dict[str, Any], list[str]]:
    data = json.loads((out / "gpu-timing.json").read_text())
    table = [
        line for line in (out / "gpu-timing.md").read_text().splitlines() if line.count("|") == 6
    ]
    return data, table


def test_the_whole_table_comes_out_of_the_tiny_models_with_the_cpu_stack_absent(
    tmp_path: Path,
) -> None:
    done = _bare_run(tmp_path, "--compile-backend", "eager")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data, table = _rows(tmp_path)
    names = {(row["tier"], row["name"]) for row in data["rows"]}
    for mode in ("eager", "compiled"):
        for batch in (1, 4, 8):
            assert ("express", f"image 1:1 64x64, batch {batch}, 3 refs, {mode}") in names
            assert ("express", f"image 4:5 64x80, batch {batch}, 3 refs, {mode}") in names
    step = "LoRA training step (worker recipe: cached inputs, UNet-only, rank 16)"
    assert {
        ("studio", f"{step}, checkpointing off"),
        ("studio", f"{step}, checkpointing on"),
    } <= names
    few_step = [n for t, n in names if t == "studio" and "8 steps, 2 adapters" in n]
    assert {n.split("batch ")[1] for n in few_step} >= {"1, eager", "4, eager", "8, eager",
                                                       "4, compiled"}  # fmt: skip
    assert any(t == "both" for t, _ in names)
    assert sum("VAE decode" in n for _, n in names) == 2
    projected = [row["text"] for row in data["rows"] if row["name"].startswith("pack of 40")]
    assert sum("budget 30 s" in text and "stretch 20 s" in text for text in projected) == 6
    assert sum("budget 240 s" in text for text in projected) == 4
    timed = [row for row in data["rows"] if not row["text"]]
    assert timed and all(row["times_s"] and min(row["times_s"]) > 0 for row in timed)
    assert len(table) == len(data["rows"]) + 2  # header, rule, then one line per row
    assert not [note for note in data["notes"] if note.startswith("skipped")]


def test_the_watchdog_ends_a_run_past_its_budget_and_the_files_stay_whole(
    tmp_path: Path,
) -> None:
    done = _bare_run(tmp_path, "--budget-s", "0", "--watchdog-grace-s", "0")
    assert done.returncode == 3, done.stderr[-3000:]
    data, table = _rows(tmp_path)
    assert data["notes"][-1].startswith("stopped by the watchdog")
    assert "stopped by the watchdog" in (tmp_path / "gpu-timing.md").read_text()
    assert len(table) == len(data["rows"]) + 2


def test_a_part_that_no_longer_fits_the_budget_is_skipped_and_said(tmp_path: Path) -> None:
    opts = BenchOptions(tiny=True, scratch=tmp_path)
    log = RowLog(tmp_path, "budget", {})
    run = TimingRun(opts, log, budget_s=_since(opts) + 60)
    assert run.fits(10, "a short part")
    assert not run.fits(600, "a long part")
    log.add(Row("express", "a measured part", [0.5]))
    data = json.loads((tmp_path / "gpu-timing.json").read_text())
    assert data["notes"] == [log.notes[0]] and "a long part" in log.notes[0]
    assert data["rows"][0]["times_s"] == [0.5]


def _since(opts: BenchOptions) -> float:
    """Return the seconds since the options were made, so a budget can be set from now."""
    import time

    return time.perf_counter() - opts.started


def test_the_bench_trains_with_the_worker_s_own_recipe() -> None:
    worker = train_config(Settings(_env_file=None), 1024, on_cuda=True)  # type: ignore[call-arg]
    timed = dataclasses.replace(worker, min_steps=10, max_steps=10, gradient_checkpointing="off")
    assert recipe(1024, 10, on_cuda=True) == timed
