"""A 40-image pack per tier, projected from the timed rows and held against the budgets.

The face work (framing the selfies, judging every render) runs on the CPU; the bare GPU host has
no face stack, so it enters at the per-image cost measured on this project's CPU hosts. Judging
runs while the GPU renders the next batch (engine/studio/judging.py), so only the last batch's
judging adds to the pack's time.
"""

from __future__ import annotations

import math
import re

from bench.pack_timing import Row
from bench.timing_log import RowLog
from bench.timing_studio import STEP_ROW

SELFIES = 10
IMAGES = 40
CANDIDATES = 60  # 1.5 candidates per kept image: the selection drops the weaker ones
FACE_S = 0.1  # detection + descriptor of one image on a CPU core (issue 28; bench/descriptor.py)
EXPRESS_BUDGET_S = 30.0
EXPRESS_STRETCH_S = 20.0
STUDIO_BUDGET_S = 240.0
ASPECTS = ("1:1", "4:5")  # the style packs alternate them: half the candidates each


def project(log: RowLog, label: str) -> None:
    """Log each tier's projected pack at every batch size that has its rows timed."""
    for batch in (1, 4, 8):
        _express(log, batch, label)
    _studio(log, label)


def _express(log: RowLog, batch: int, label: str) -> None:
    rows = [_best(log, "express", f"image {a} ", f", batch {batch},") for a in ASPECTS]
    per_image = [row.median() for row in rows if row is not None]
    if len(per_image) < len(ASPECTS):
        return
    share = CANDIDATES // len(ASPECTS)
    render_s = sum(math.ceil(share / batch) * batch * s for s in per_image)
    cpu_s = (SELFIES + batch) * FACE_S  # framing the selfies, then judging the last batch
    total = render_s + cpu_s
    verdict = (f"budget {EXPRESS_BUDGET_S:g} s {_met(total, EXPRESS_BUDGET_S)}, "
               f"stretch {EXPRESS_STRETCH_S:g} s {_met(total, EXPRESS_STRETCH_S)}")  # fmt: skip
    text = f"{total:.1f} (renders {render_s:.1f}, CPU {cpu_s:.1f}); {verdict}"
    name = f"pack of {IMAGES} ({CANDIDATES} candidates, half 4:5), batch {batch}, {label}"
    log.add(Row("express", name, text=text))


def _studio(log: RowLog, label: str) -> None:
    from engine.studio.lora.config import TrainConfig

    steps = TrainConfig().steps_for(SELFIES)  # the production recipe, not the timed run
    step = _best(log, "studio", STEP_ROW)  # checkpointing off or on, whichever is faster
    overhead = [r.median() for r in log.find("studio", "LoRA training run overhead")]
    for kind, marker in (("few-step", "2 adapters"), ("style steps", "steps, batch 1, eager")):
        image = _best(log, "studio", "image ", marker)
        if step is None or image is None:
            continue
        train_s = steps * step.median() + (overhead[0] if overhead else 0.0)
        render_s = CANDIDATES * image.median()
        cpu_s = (SELFIES + _batch(image)) * FACE_S
        total = train_s + render_s + cpu_s
        text = (f"{total:.1f} (training {train_s:.1f}, renders {render_s:.1f}); "
                f"budget {STUDIO_BUDGET_S:g} s {_met(total, STUDIO_BUDGET_S)}")  # fmt: skip
        name = (
            f"pack of {IMAGES} ({steps} training steps, {CANDIDATES} candidates), {kind}, {label}"
        )
        log.add(Row("studio", name, text=text))


def _best(log: RowLog, tier: str, start: str, contains: str = "") -> Row | None:
    """Return the matching row with the fastest steady median (first calls left out)."""
    rows = [r for r in log.find(tier, start) if contains in r.name and "(first call" not in r.name]
    return min(rows, key=Row.median, default=None)


def _batch(row: Row) -> int:
    found = re.search(r"batch (\d+)", row.name)
    return int(found.group(1)) if found else 1


def _met(total_s: float, budget_s: float) -> str:
    return "met" if total_s <= budget_s else f"missed by {total_s - budget_s:.1f} s"
