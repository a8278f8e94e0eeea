"""One pack job on the worker: each stage in a thread, its output stored before the next starts.

A re-run (after a crash, a restart or SIGTERM) finds the stored outputs under the job's blob
prefix and skips those stages, so the expensive training is never done twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from redis.asyncio import Redis

from engine import eta, ops
from engine.job_blobs import JobBlobs
from engine.jobs import (
    TERMINAL_STATUSES,
    Cancelled,
    Delivering,
    Done,
    Failed,
    Generating,
    JobEvent,
    PackRequest,
    Preparing,
    Selecting,
    StyleResult,
    Training,
    cancel_key,
    finish_record,
    job_prefix,
    lease_key,
    record_key,
)
from engine.progress import ProgressPublisher
from engine.stages import GeneratedImage, StageCancelledError, Studio
from storage.blobs import BlobStore
from storage.settings import Settings
from storage.state import StateStore

log = logging.getLogger(__name__)
T = TypeVar("T")

CANCEL_POLL_S = 0.25
LORA = "lora.safetensors"
REASON_ERROR = "Sorry, something went wrong while making your pack. Please try again later."
REASON_TIMEOUT = "Your pack took far longer than it should, so I stopped it. Please try again."
REASON_EMPTY = (
    "None of the images I made looked enough like you, so I won't send them. Please try again"
    " with sharper, well-lit selfies."
)
REASON_CRASHED = "The studio stopped several times while making your pack. Please try again later."


@dataclass(frozen=True)
class WorkerResources:
    """What a worker creates once at start-up and every job uses."""

    settings: Settings
    studio: Studio
    blobs: BlobStore
    state: StateStore


class PackRun:
    """Runs one try of one pack job."""

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
        self._typical = dict(eta.DEFAULT_S)

    async def run(self) -> dict[str, Any]:
        """Run the stages that are not stored yet; return a small JSON summary."""
        record = await self._res.state.get(record_key(self._job_id))
        if record is not None and record.get("status") in TERMINAL_STATUSES:
            # A re-run after the end was published, or a job cancelled while no worker ran it.
            if record["status"] == "cancelled":
                await self._blobs.remove_all()
            return {"status": record["status"]}
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
            return await self._fail(
                "crashed", REASON_CRASHED, f"gave up after {self._try - 1} runs"
            )
        if await self._cancel_requested():
            return await self._cancelled()
        ttl_s = self._res.settings.job_ttl_s
        await self._res.state.update(record_key(self._job_id), _status("running"), ttl_s)
        self._typical = await eta.typical_s(self._redis)
        watcher = asyncio.create_task(self._watch())
        try:
            async with asyncio.timeout(self._res.settings.pack_timeout_s):
                results = await self._stages()
        except StageCancelledError:
            return await self._cancelled()
        except asyncio.CancelledError:
            if await self._cancel_requested():  # arq's abort; otherwise a shutdown: run again
                await self._cancelled()
            raise
        except TimeoutError:
            return await self._fail("timeout", REASON_TIMEOUT, "pack_timeout_s exceeded")
        except Exception as exc:
            log.exception("pack %s failed", self._job_id)
            # Only a message written for the person is shown; anything else is for operators.
            reason = str(getattr(exc, "user_message", "") or REASON_ERROR)
            return await self._fail("stage", reason, f"{type(exc).__name__}: {exc}")
        finally:
            watcher.cancel()
        if not results:
            return await self._fail("empty", REASON_EMPTY, "the selection kept no image")
        return await self._done(results)

    async def _stages(self) -> tuple[StyleResult, ...]:
        selfies = await self._blobs.load(self._req.selfie_keys)
        crops = await self._crops(selfies)
        lora = await self._lora(crops)
        candidates = await self._candidates(lora)
        return await self._selected(candidates, selfies)

    async def _crops(self, selfies: list[bytes]) -> list[bytes]:
        stored = await self._blobs.manifest("crops.json")
        if stored is not None:
            return await self._blobs.load(stored["keys"])
        self._events.emit(Preparing(job_id=self._job_id, eta_s=sum(self._typical.values())))
        req, studio = self._req, self._res.studio
        crops = await self._timed("preprocess", lambda: studio.preprocess(selfies, req.subject))
        keys = [await self._blobs.put(f"crops/{i:03d}.png", crop) for i, crop in enumerate(crops)]
        await self._blobs.seal("crops.json", {"keys": keys})
        return crops

    async def _lora(self, crops: list[bytes]) -> bytes:
        stored = await self._blobs.get(LORA)
        if stored is not None:
            return stored
        req, studio, started = self._req, self._res.studio, time.monotonic()

        def event(step: int, total: int) -> JobEvent:
            left = eta.stage_eta_s(self._typical, "train", step, total, time.monotonic() - started)
            return Training(job_id=self._job_id, step=step, total=total, eta_s=left)

        on_progress = self._events.step_callback(event)
        lora = await self._timed(
            "train",
            lambda: studio.train(
                crops,
                subject=req.subject,
                seed=req.seed,
                on_progress=on_progress,
                should_stop=self._stop.is_set,
            ),
        )
        await self._blobs.put(LORA, lora)
        return lora

    async def _candidates(self, lora: bytes) -> list[GeneratedImage]:
        stored = await self._blobs.manifest("candidates.json")
        if stored is not None:
            return await self._blobs.images(stored["items"])
        req, studio, started = self._req, self._res.studio, time.monotonic()

        def event(done: int, total: int) -> JobEvent:
            left = eta.stage_eta_s(
                self._typical, "generate", done, total, time.monotonic() - started
            )
            return Generating(job_id=self._job_id, done=done, total=total, eta_s=left)

        on_progress = self._events.step_callback(event)
        images = await self._timed(
            "generate",
            lambda: studio.generate(
                lora,
                style_ids=req.style_ids,
                images_per_style=_candidates_per_style(req.pack_size),
                subject=req.subject,
                seed=req.seed,
                on_progress=on_progress,
                should_stop=self._stop.is_set,
            ),
        )
        items = await self._blobs.put_images("candidates", images)
        await self._blobs.seal("candidates.json", {"items": items})
        return images

    async def _selected(
        self, candidates: list[GeneratedImage], selfies: list[bytes]
    ) -> tuple[StyleResult, ...]:
        stored = await self._blobs.manifest("selected.json")
        if stored is None:
            self._events.emit(Selecting(job_id=self._job_id, eta_s=self._typical["select"]))
            keep, studio = self._req.pack_size, self._res.studio
            chosen = await self._timed(
                "select",
                lambda: studio.select(candidates, selfies=selfies, keep_per_style=keep),
            )
            self._events.emit(Delivering(job_id=self._job_id))
            stored = {"items": await self._blobs.put_images("results", chosen)}
            await self._blobs.seal("selected.json", stored)
        return _group(self._req.style_ids, stored["items"])

    # ----- endings ------------------------------------------------------------------------------

    async def _done(self, results: tuple[StyleResult, ...]) -> dict[str, Any]:
        # Published before the record is marked: a crash in between re-publishes, and the
        # notifier's per-chat delivery key makes the duplicate harmless.
        await self._events.publish_now(Done(job_id=self._job_id, results=results))
        await self._finish("done")
        ops.PACKS_FINISHED.labels("done").inc()
        return {"status": "done", "images": sum(len(r.keys) for r in results)}

    async def _cancelled(self) -> dict[str, Any]:
        self._stop.set()
        removed = await self._blobs.remove_all()
        await self._events.publish_now(Cancelled(job_id=self._job_id))
        await self._finish("cancelled")
        ops.PACKS_FINISHED.labels("cancelled").inc()
        log.info("pack %s cancelled; %d partial blobs removed", self._job_id, removed)
        return {"status": "cancelled"}

    async def _fail(self, code: str, reason: str, error: str) -> dict[str, Any]:
        log.error("pack %s failed (%s): %s", self._job_id, code, error)
        # Nothing can resume a failed job (a new order is a new job): drop its face data now.
        await self._blobs.remove_all()
        await self._events.publish_now(Failed(job_id=self._job_id, reason=reason, code=code))
        await self._finish("failed", error)
        ops.PACKS_FINISHED.labels("failed").inc()
        ops.PACK_FAILURES.labels(code).inc()
        return {"status": "failed", "code": code, "error": error}

    async def _finish(self, status: str, error: str | None = None) -> None:
        ttl_s = self._res.settings.job_ttl_s
        await finish_record(self._res.state, self._job_id, status, error, ttl_s)

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
        return await self._res.state.get(cancel_key(self._job_id)) is not None

    async def _timed(self, stage: str, work: Callable[[], T]) -> T:
        started = time.monotonic()
        result = await self._in_thread(work)
        if self._stop.is_set():
            raise StageCancelledError(stage)
        elapsed_s = time.monotonic() - started
        await eta.record_s(self._redis, stage, elapsed_s)
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


def _status(status: str) -> Callable[[dict[str, Any] | None], dict[str, Any] | None]:
    def mark(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        if doc is None or doc.get("status") in TERMINAL_STATUSES:
            return doc  # a cancel that came in meanwhile wins
        return {**doc, "status": status}

    return mark
