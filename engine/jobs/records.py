"""Job records in the state store: the one module that reads and writes their stored form."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from engine.jobs import keys
from engine.jobs.contract import JobRecord, JobStatus, PackRequest
from engine.jobs.quality import PackQuality
from engine.jobs.redis_retry import client_options
from storage.state import StateStore
from storage.state_redis import RedisStateStore

Doc = dict[str, Any]


async def create_record(state: StateStore, request: PackRequest, ttl_s: int) -> bool:
    """Store a queued record for the request unless one exists; return whether it was created."""
    record = JobRecord(job_id=request.job_id, request=request)
    return await state.set_if_absent(keys.record_key(request.job_id), record.to_json(), ttl_s)


async def load_record(state: StateStore, job_id: str) -> JobRecord | None:
    """Return the job's record, or None when it is gone (never stored, expired or erased)."""
    raw = await state.get(keys.record_key(job_id))
    return None if raw is None else JobRecord.from_json(raw)


async def all_records(state: StateStore) -> list[JobRecord]:
    """Return every stored job record (operators' listings and the retention sweep)."""
    found = []
    for key in await state.keys(keys.RECORDS_PREFIX):
        raw = await state.get(key)
        if raw is not None:
            found.append(JobRecord.from_json(raw))
    return found


def open_state(redis_url: str, *, ride_out_s: float = 0) -> RedisStateStore:
    """Open the project's state store, documents under keys.STATE_NAMESPACE.

    With `ride_out_s` > 0, a command waits that long for a restarting Redis before it fails.
    """
    options = client_options(ride_out_s) if ride_out_s > 0 else {}
    return RedisStateStore.from_url(redis_url, keys.STATE_NAMESPACE, **options)


async def delete_record(state: StateStore, job_id: str) -> None:
    """Remove the job's record (an order that never reached the queue)."""
    await state.delete(keys.record_key(job_id))


async def mark_running(state: StateStore, job_id: str, ttl_s: int) -> None:
    """Mark the job as running, unless a cancel or another ending came first."""

    def mark(doc: Doc | None) -> Doc | None:
        if doc is None or JobStatus(doc.get("status", "queued")).terminal:
            return doc  # a cancel that came in meanwhile wins
        return {**doc, "status": str(JobStatus.RUNNING)}

    await state.update(keys.record_key(job_id), mark, ttl_s)


async def finish_record(
    state: StateStore,
    job_id: str,
    status: JobStatus,
    error: str | None = None,
    ttl_s: int = 8 * 86400,
    *,
    quality: PackQuality | None = None,
) -> None:
    """Mark the job record with its final status (and a done pack's quality); free the slot."""
    doc = await state.update(keys.record_key(job_id), _finished(status, error, quality), ttl_s)
    if doc is not None:
        scope = PackRequest.from_json(doc["request"]).user_scope
        marker = await state.get(keys.active_key(scope))
        if marker is not None and marker.get("job_id") == job_id:
            await state.delete(keys.active_key(scope))


def _finished(
    status: JobStatus, error: str | None, quality: PackQuality | None
) -> Callable[[Doc | None], Doc | None]:
    figures = None if quality is None else quality.to_json()

    def mark(doc: Doc | None) -> Doc | None:
        if doc is None:
            return None
        ending = {"status": str(status), "error": error, "finished_at": time.time()}
        return {**doc, **ending, "quality": figures}

    return mark


async def forget_job(
    redis: Redis, state: StateStore, job_id: str, *, keep_cancel: bool = False
) -> None:
    """Delete every trace of a job in Redis: record, stream, markers, and arq's own keys.

    `keep_cancel` leaves the cancel key (it expires by itself) for a job still running, so its
    worker sees the cancel, stops and removes what it stored, even after the rest is gone.
    """
    # The record goes first: the notifier re-checks it after writing a marker and removes its
    # own marker when the record is gone, so a marker written after the scan below goes too.
    doomed = [keys.record_key(job_id), *([] if keep_cancel else [keys.cancel_key(job_id)])]
    await state.delete(*doomed)
    # arq's result key holds the request (with the person's ids): it may not outlive the job.
    markers = [key async for key in redis.scan_iter(match=keys.delivery_pattern(job_id))]
    job_key, result_key, _ = keys.arq_keys(job_id)
    await redis.delete(
        keys.stream_key(job_id), keys.latest_key(job_id), keys.lease_key(job_id),
        keys.shown_key(job_id), job_key, result_key, *markers,
    )  # fmt: skip
    await redis.srem(keys.LIVE_STREAMS, keys.stream_key(job_id))  # type: ignore[misc]


async def is_cancel_requested(state: StateStore, job_id: str) -> bool:
    """Tell whether someone asked the job to stop."""
    return await state.get(keys.cancel_key(job_id)) is not None


async def request_cancel(state: StateStore, job_id: str, ttl_s: int) -> None:
    """Ask the job to stop; its worker polls for this between steps."""
    await state.put(keys.cancel_key(job_id), {"at": time.time()}, ttl_s)
