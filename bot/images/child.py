"""Runs inside the image pool's processes: calls `engine.quality` and `engine.retouch`."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.quality.report import FaceRecord  # types only: light, so the bot may import it

CHILD_TITLE = "headshots image-check"


def warm_up(log_file: str | None = None) -> None:
    """Name the process, leave Ctrl-C to the parent, and load the face models once."""
    from multiprocessing import parent_process

    from setproctitle import setproctitle
    from threadpoolctl import threadpool_limits

    from core.lifetime import end_with_parent
    from engine.quality import warm_up as load_models
    from ops.logs import send_native_output_to

    setproctitle(CHILD_TITLE)
    # A killed bot leaves no image-check process: spawn tells the child who started it,
    # even when that process is already gone.
    bot = parent_process()
    end_with_parent(None if bot is None else bot.pid)
    if log_file is not None:  # mediapipe's TFLite writes to fd 2 from C, past Python's logging
        send_native_output_to(Path(log_file))
    # The terminal sends Ctrl-C to the whole process group; the bot stops the pool itself,
    # so a child must not die mid-task printing a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One BLAS thread (numpy's matrix products; the descriptor's onnxruntime session sets its
    # own): the pool runs a child per core, and two threads each would only fight over the cores.
    threadpool_limits(limits=1)
    load_models()


def ping() -> bool:
    """Return True; used to start every child eagerly."""
    return True


def check(
    data: bytes,
    label: str,
    prior: Sequence[FaceRecord],
    counted: Sequence[str] | None,
    max_bytes: int,
) -> dict[str, Any]:
    """Check one photo against the set's faces; return the verdict as plain data and the face.

    `prior` holds the set's faces and those set aside; `counted` names the set's (see
    `engine.quality.check_photo`). "person" is who the set is about with this photo added.
    """
    from dataclasses import replace

    from engine.quality import DEFAULT_THRESHOLDS, check_photo

    thresholds = replace(DEFAULT_THRESHOLDS, max_bytes=max_bytes)
    report = check_photo(data, label, list(prior), counted=counted, thresholds=thresholds)
    person = report.person
    return {
        "person": None if person is None else [list(person.person), list(person.set_aside)],
        "verdict": str(report.verdict),
        "summary": report.summary.to_json(),  # worded by the bot, in the person's language
        "codes": [finding.code for finding in report.findings],
        "face": report.face,  # a FaceRecord: the same type on both sides of the pool
    }


def hints(faces: Sequence[FaceRecord], min_count: int, max_count: int) -> list[dict[str, Any]]:
    """Return the set's variety hints (all frontal, same light, same outfit...)."""
    from engine.quality import summarize_set

    found = summarize_set(list(faces), min_count=min_count, max_count=max_count).hints
    return [hint.to_json() for hint in found]


def retouch(data: bytes, background: str, aspect: str, brand_colour: str) -> bytes:
    """Return the retouched headshot; the segmentation model loads on first use per process."""
    from engine.retouch import pool

    return pool.retouch(data, background, aspect, brand_colour)


def profile_kit(headshot: bytes, brand_colour: str) -> dict[str, bytes]:
    """Return the profile kit (avatar, signature picture, banner) made from one headshot."""
    from engine.retouch.profile import profile_kit as make_kit

    return make_kit(headshot, name="", title="", brand_colour=brand_colour)


def thumbnail(image: bytes, side_px: int) -> bytes:
    """Return a JPEG of the image no larger than `side_px` on its longer side (the gallery's)."""
    import io

    from PIL import Image

    from core import provenance

    with Image.open(io.BytesIO(image)) as opened:
        small = opened.convert("RGB")
    small.thumbnail((side_px, side_px))
    return provenance.jpeg_like(image, small, 82)  # a generated headshot's thumbnail stays marked
