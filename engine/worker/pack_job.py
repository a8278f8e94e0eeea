"""One pack job on the worker: each stage in a thread, its output stored before the next starts.

A re-run (after a crash, a restart or SIGTERM) finds the stored outputs under the job's blob
prefix and skips those stages, so the expensive training is never done twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from redis.asyncio import Redis

from core.settings import Settings
from engine.jobs import (
    Cancelled,
    Delivering,
    Done,
    Failed,
    FailureCode,
    Generating,
    JobEvent,
    JobStatus,
    PackRequest,
    Preparing,
    Selecting,
    StyleResult,
    Tier,
    Training,
    eta,
    records,
)
from engine.jobs.contract import CodedError
from engine.jobs.keys import (
    CANDIDATES_MANIFEST,
    CROPS_MANIFEST,
    RESULTS_FOLDER,
    RESULTS_MANIFEST,
    job_prefix,
    lease_key,
)
from engine.jobs.stream import ProgressPublisher
from engine.studio.protocol import (
    GeneratedImage,
    Identity,
    PackQuality,
    RenderOrder,
    StageCancelledError,
    StageContext,
    Studio,
)
from engine.worker.job_blobs import JobBlobs
from ops import metrics as ops
from storage.blobs import BlobStore
from storage.state import StateStore

log = logging.getLogger(__name__)
T = TypeVar("T")

CANCEL_POLL_S = 0.25


@dataclass(frozen=True)
class WorkerResources:
    """What a worker creates once at start-up and every job uses."""

    settings: Settings
    studios: Mapping[Tier, Studio]  # the backends this worker loaded, by the tier each serves
    blobs: BlobStore
    state: StateStore


class PackRun:
    """Runs one try of one pack job."""

    measures_eta = True  # its stage durations feed the tier's pack estimates

    def __init__(
        self, res: WorkerResources, redis: Redis, request: PackRequest, job_try: int
    ) -> None:
        self._res = res
        self._redis = redis
        self._req = request
        self._job_id = request.job_id
        self._try = job_try
        self._blobs = JobBlobs(res.blobs, job_prefix(request.user_scope, self._job_id))
        self._stop = threading.Event()
        images = len(request.style_ids) * _candidates_per_style(request.pack_size)
        guess = eta.Typical(request.tier, dict(eta.DEFAULTS_S[request.tier]))
        self._clock = eta.PackClock(guess, images)

    async def run(self) -> dict[str, Any]:
        """Run the stages that are not stored yet; return a small JSON summary."""
        record = await records.load_record(self._res.state, self._job_id)
        if record is not None and record.status.terminal:
            # A re-run after the end was published, or a job cancelled while no worker ran it.
            if record.status is JobStatus.CANCELLED:
                await self._blobs.remove_all()
            return {"status": str(record.status)}
        settings = self._res.settings
        self._events = ProgressPublisher(
            self._redis, settings.job_ttl_s, settings.progress_interval_s
        )
        try:
            return await self._guarded()
        finally:
            await self._events.close()
            await self._redis.delete(lease_key(self._job_id))

    async def _guarded(self) -> dict[str, Any]:
        if self._try > self._res.settings.pack_max_tries:
            return await self._fail(FailureCode.CRASHED, f"gave up after {self._try - 1} runs")
        if await self._cancel_requested():
            return await self._cancelled()
        if self._req.tier not in self._res.studios:
            return await self._fail(FailureCode.TIER_OFF, f"no {self._req.tier} backend loaded")
        await records.mark_running(self._res.state, self._job_id, self._res.settings.job_ttl_s)
        self._clock.typical = await eta.typical(self._redis, self._req.tier)
        watcher = asyncio.create_task(self._watch())
        try:
            async with asyncio.timeout(self._res.settings.pack_timeout_s):
                outcome = await self._stages()
        except StageCancelledError:
            return await self._cancelled()
        except asyncio.CancelledError:
            if await self._cancel_requested():  # arq's abort; otherwise a shutdown: run again
                await self._cancelled()
            raise
        except TimeoutError:
            return await self._fail(FailureCode.TIMEOUT, "pack_timeout_s exceeded")
        except Exception as exc:
            log.exception("pack %s failed", self._job_id)
            # Only a failure the engine named is told as such; anything else is for operators.
            code = exc.failure_code if isinstance(exc, CodedError) else FailureCode.ERROR
            return await self._fail(code, f"{type(exc).__name__}: {exc}")
        finally:
            watcher.cancel()
        results, quality = outcome
        if not results:
            return await self._fail(FailureCode.EMPTY, "the selection kept no image", quality)
        return await self._done(results, quality)

    @property
    def _studio(self) -> Studio:
        return self._res.studios[self._req.tier]

    def _context(self, on_progress: Callable[[int, int], None]) -> StageContext:
        req = self._req
        return StageContext(
            req.subject, req.seed, on_progress, self._stop.is_set, req.selfie_traits
        )

    async def _stages(self) -> tuple[tuple[StyleResult, ...], PackQuality | None]:
        selfies = await self._blobs.load(self._req.selfie_keys)
        crops = await self._crops(selfies)
        identity = await self._identity(crops)
        candidates = await self._candidates(identity)
        return await self._selected(candidates, selfies)

    async def _crops(self, selfies: list[bytes]) -> list[bytes]:
        stored = await self._blobs.manifest(CROPS_MANIFEST)
        if stored is not None:
            return await self._blobs.load(stored["keys"])
        first = self._clock.first_estimate
        self._events.emit(Preparing(job_id=self._job_id, eta_s=self._clock.total_s(),
                                    first_estimate=first))  # fmt: skip
        subject, studio = self._req.subject, self._studio
        crops = await self._timed("preprocess", lambda: studio.preprocess(selfies, subject))
        keys = [await self._blobs.put(f"crops/{i:03d}.png", crop) for i, crop in enumerate(crops)]
        await self._blobs.seal(CROPS_MANIFEST, {"keys": keys})
        return crops

    async def _identity(self, crops: list[bytes]) -> Identity:
        stored = await self._blobs.identity()
        if stored is not None:
            return stored
        studio, started = self._studio, time.monotonic()

        def event(step: int, total: int) -> JobEvent:
            spent_s = time.monotonic() - started
            left = self._clock.left_s("personalize", step, total, spent_s)
            tier, restarted = str(self._req.tier), self._try > 1
            return Training(
                job_id=self._job_id, step=step, total=total, eta_s=left, tier=tier,
                restarted=restarted, first_estimate=self._clock.first_estimate,
            )  # fmt: skip

        ctx = self._context(self._events.step_callback(event))
        identity = await self._timed("personalize", lambda: studio.personalize(crops, ctx))
        await self._blobs.put_identity(identity)
        return identity

    async def _candidates(self, identity: Identity) -> list[GeneratedImage]:
        stored = await self._blobs.manifest(CANDIDATES_MANIFEST)
        if stored is not None:
            return await self._blobs.images(stored["items"])
        studio, started = self._studio, time.monotonic()

        def event(done: int, total: int) -> JobEvent:
            spent_s = time.monotonic() - started
            left = self._clock.left_s("generate", done, total, spent_s)
            return Generating(
                job_id=self._job_id, done=done, total=total, eta_s=left, restarted=self._try > 1,
                first_estimate=self._clock.first_estimate,
            )  # fmt: skip

        ctx = self._context(self._events.step_callback(event))
        order = await self._order()
        self._clock.images = len(order.style_ids) * order.images_per_style
        images = await self._timed("generate", lambda: studio.generate(identity, order, ctx))
        if images and self.measures_eta:  # what the next pack of another size is told
            per_image_s = self._clock.seconds("generate") / len(images)
            await eta.record_s(self._redis, eta.PER_IMAGE, per_image_s, self._req.tier)
        items = await self._blobs.put_images("candidates", images)
        await self._blobs.seal(CANDIDATES_MANIFEST, {"items": items})
        return images

    async def _order(self) -> RenderOrder:
        """Return what the generate stage renders (a re-roll asks for variations)."""
        return RenderOrder(self._req.style_ids, _candidates_per_style(self._req.pack_size))

    async def _selected(
        self, candidates: list[GeneratedImage], selfies: list[bytes]
    ) -> tuple[tuple[StyleResult, ...], PackQuality | None]:
        stored = await self._blobs.manifest(RESULTS_MANIFEST)
        if stored is None:
            left, first = self._clock.left_s("select"), self._clock.first_estimate
            self._events.emit(Selecting(job_id=self._job_id, eta_s=left, first_estimate=first))
            keep, studio = self._req.pack_size, self._studio
            chosen = await self._timed(
                "select",
                lambda: studio.select(candidates, selfies=selfies, keep_per_style=keep),
            )
            self._events.emit(Delivering(job_id=self._job_id))
            # Observed once, when the candidates were judged; a re-run reads the stored figures.
            ops.observe_pack_quality(str(self._req.tier), chosen.quality)
            items = await self._blobs.put_images(RESULTS_FOLDER, chosen.images)
            stored = {"items": items, "quality": chosen.quality.to_json()}
            await self._blobs.seal(RESULTS_MANIFEST, stored)
        # A manifest sealed before quality was measured has none: the record then says nothing.
        quality = PackQuality.from_json(stored["quality"]) if stored.get("quality") else None
        return _group(self._req.style_ids, stored["items"]), quality

    # ----- endings ------------------------------------------------------------------------------

    async def _done(
        self, results: tuple[StyleResult, ...], quality: PackQuality | None
    ) -> dict[str, Any]:
        # Published before the record is marked: a crash in between re-publishes, and the
        # notifier's per-chat delivery key makes the duplicate harmless.
        await self._events.publish_now(Done(job_id=self._job_id, results=results))
        await self._finish(JobStatus.DONE, quality=quality)
        ops.PACKS_FINISHED.labels("done").inc()
        return {"status": "done", "images": sum(len(r.keys) for r in results)}

    async def _cancelled(self) -> dict[str, Any]:
        self._stop.set()
        removed = await self._blobs.remove_all()
        await self._events.publish_now(Cancelled(job_id=self._job_id))
        await self._finish(JobStatus.CANCELLED)
        ops.PACKS_FINISHED.labels("cancelled").inc()
        log.info("pack %s cancelled; %d partial blobs removed", self._job_id, removed)
        return {"status": "cancelled"}

    async def _fail(
        self, code: FailureCode, error: str, quality: PackQuality | None = None
    ) -> dict[str, Any]:
        log.error("pack %s failed (%s): %s", self._job_id, code, error)
        # Nothing can resume a failed job (a new order is a new job): drop its face data now.
        await self._blobs.remove_all()
        await self._events.publish_now(Failed(job_id=self._job_id, code=str(code)))
        await self._finish(JobStatus.FAILED, error, quality)
        ops.PACKS_FINISHED.labels("failed").inc()
        ops.PACK_FAILURES.labels(str(code)).inc()
        return {"status": "failed", "code": str(code), "error": error}

    async def _finish(
        self, status: JobStatus, error: str | None = None, quality: PackQuality | None = None
    ) -> None:
        ttl_s, state = self._res.settings.job_ttl_s, self._res.state
        await records.finish_record(state, self._job_id, status, error, ttl_s, quality=quality)

    # ----- helpers ------------------------------------------------------------------------------

    async def _watch(self) -> None:
        """Keep the lease alive and turn a cancel request into `should_stop`."""
        lease_s = self._res.settings.worker_lease_s
        renew_at = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= renew_at:
                    await self._redis.set(lease_key(self._job_id), "1", px=int(lease_s * 1000))
                    renew_at = time.monotonic() + lease_s / 3
                if await self._cancel_requested():
                    self._stop.set()
            except Exception:  # a Redis blip must not end the lease renewals for good
                log.exception("lease or cancel check of %s failed", self._job_id)
            await asyncio.sleep(CANCEL_POLL_S)

    async def _cancel_requested(self) -> bool:
        return await records.is_cancel_requested(self._res.state, self._job_id)

    async def _timed(self, stage: str, work: Callable[[], T]) -> T:
        started = time.monotonic()
        result = await self._in_thread(work)
        if self._stop.is_set():
            raise StageCancelledError(stage)
        elapsed_s = time.monotonic() - started
        self._clock.finished(stage, elapsed_s)
        if self.measures_eta:
            await eta.record_s(self._redis, stage, elapsed_s, self._req.tier)
        ops.STAGE_SECONDS.labels(stage).observe(elapsed_s)
        return result

    async def _in_thread(self, work: Callable[[], T]) -> T:
        task = asyncio.ensure_future(asyncio.to_thread(work))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # A thread cannot be killed: ask it to stop and wait, so no GPU work outlives the job.
            self._stop.set()
            await asyncio.wait([task])
            if not task.cancelled():
                task.exception()  # retrieved: the stage's own StageCancelledError is expected
            raise


def _candidates_per_style(pack_size: int) -> int:
    """Over-generate so the filter has something to drop."""
    return pack_size + max(1, pack_size // 2)


def _group(style_ids: Sequence[str], items: list[dict[str, Any]]) -> tuple[StyleResult, ...]:
    keys = {style: tuple(i["key"] for i in items if i["style_id"] == style) for style in style_ids}
    return tuple(StyleResult(style, found) for style, found in keys.items() if found)
