"""A fast stand-in for engine.studio that real worker processes load in tests.

Tiny PIL images, a short sleep per step so kill and cancel tests have time to act, and a log of
every stage call (one line each, appended beside the blob folder) so tests can see what re-ran.
Knobs come from environment variables because the worker is a separate process.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from core import provenance
from core.settings import Settings
from engine.jobs.contract import CodedError, FailureCode
from engine.studio.protocol import (
    GeneratedImage,
    Identity,
    IdentityFile,
    OnProgress,
    PackQuality,
    RenderOrder,
    Selection,
    ShouldStop,
    StageCancelledError,
    StageContext,
    Tier,
)
from engine.studio.quality import unmeasured

TRAIN_STEPS = 20


def calls_log(settings: Settings) -> Path:
    """Return the file where the stand-in records its stage calls."""
    return settings.local_storage_root().parent / "studio-calls.log"


def _png(colour: tuple[int, int, int], size: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


class _CodedFailureError(CodedError):
    def __init__(self, code: FailureCode, message: str) -> None:
        super().__init__(message)
        self.failure_code = code


class StandInStudio:
    """Implements engine.studio.protocol.Studio in milliseconds."""

    tier = Tier.STUDIO

    def __init__(self, log: Path, step_s: float, fail_in: str) -> None:
        self._log = log
        self._step_s = step_s
        self._fail_in = fail_in

    def _called(self, stage: str) -> None:
        with self._log.open("a") as handle:
            handle.write(f"{stage} {os.getpid()}\n")
        if stage == self._fail_in:
            code = os.environ.get("STANDIN_FAILURE_CODE", "")
            if code:
                raise _CodedFailureError(
                    FailureCode(code), f"stand-in studio told to fail in {stage}"
                )
            raise RuntimeError(f"stand-in studio told to fail in {stage}")

    def _steps(self, total: int, on_progress: OnProgress, should_stop: ShouldStop) -> None:
        for step in range(1, total + 1):
            if should_stop():
                raise StageCancelledError
            time.sleep(self._step_s)
            on_progress(step, total)

    def preprocess(self, selfies: Sequence[bytes], subject: str) -> list[bytes]:
        self._called("preprocess")
        return [_png((index * 20 % 256, 100, 150)) for index in range(len(selfies))]

    def personalize(self, crops: Sequence[bytes], ctx: StageContext) -> Identity:
        self._called("personalize")
        self._steps(TRAIN_STEPS, ctx.on_progress, ctx.should_stop)
        lora = f"lora:{ctx.subject}:{ctx.seed}:{len(crops)}".encode()
        return Identity("lora", (IdentityFile("lora.safetensors", lora),))

    def generate(
        self, identity: Identity, order: RenderOrder, ctx: StageContext
    ) -> list[GeneratedImage]:
        self._called("generate")
        total = len(order.style_ids) * order.images_per_style
        images, done = [], 0
        for style_index, style in enumerate(order.style_ids):
            for index in range(order.images_per_style):
                ctx.check()
                time.sleep(self._step_s / 4)
                done += 1
                seed, red = ctx.seed + index, style_index * 60 % 256
                if order.near_seed is not None:  # "more like this": nearby seeds, own colours
                    seed, red = order.near_seed + index + 1, (order.near_seed + 97) % 256
                # Made "by a model": encoded as every studio encodes, with the AI mark.
                png = provenance.png(Image.new("RGB", (32, 32), (red, index * 30 % 256, 200)))
                images.append(GeneratedImage(style, seed, png, score=index / 10))
                ctx.on_progress(done, total)
        return images

    def select(
        self,
        candidates: Sequence[GeneratedImage],
        *,
        selfies: Sequence[bytes],
        keep_per_style: int,
    ) -> Selection:
        self._called("select")
        kept: list[GeneratedImage] = []
        if os.environ.get("STANDIN_KEEP_NONE"):
            # What a real filter does when no candidate shows the person.
            return Selection((), _unmeasured(candidates, kept))
        for style in dict.fromkeys(image.style_id for image in candidates):
            ranked = sorted(
                (c for c in candidates if c.style_id == style), key=lambda c: c.score or 0
            )
            kept.extend(ranked[:keep_per_style])
        return Selection(tuple(kept), _unmeasured(candidates, kept))


def _unmeasured(
    candidates: Sequence[GeneratedImage], kept: Sequence[GeneratedImage]
) -> PackQuality:
    return unmeasured(candidates, kept, "stand-in studio: faces not measured")


def load_standin(settings: Settings) -> StandInStudio:
    """The HEADSHOTS_STUDIO factory the tests use."""
    step_s = float(os.environ.get("STANDIN_STEP_S", "0.05"))
    return StandInStudio(calls_log(settings), step_s, os.environ.get("STANDIN_FAIL_IN", ""))


def load_standin_express(settings: Settings) -> StandInStudio:
    """The HEADSHOTS_EXPRESS_STUDIO factory the tests use: the same stand-in, serving express."""
    studio = load_standin(settings)
    studio.tier = Tier.EXPRESS
    return studio
