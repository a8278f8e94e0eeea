"""Queue calls shared by the bot and the worker: connect, enqueue, cancel, and what the queue holds.

Imports no heavy library, so the bot process can load it. Job payloads cross Redis as JSON through
arq's serializer hooks, never pickle. Only this package reads arq's internals.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable
from typing import Any, cast

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.constants import abort_jobs_ss
from redis.asyncio import Redis

from core.settings import Settings
from engine.jobs import eta, keys, records
from engine.jobs.contract import (
    PACK_JOB,
    Enqueued,
    JobStatus,
    PackAlreadyActiveError,
    PackRequest,
)
from engine.jobs.events import Cancelled, Queued
from engine.jobs.redis_retry import RETRIED_ERRORS, riding_retry
from engine.jobs.stream import open_stream, publish_event
from storage.state import StateStore

# arq runs the queue's sorted set lowest score first, the score being the enqueue time in ms plus
# `_defer_by`. A re-roll is a few seconds of GPU for someone looking at their pack right now, so
# it is scored as if queued this long ago: ahead of every pack waiting less than this.
REROLL_AHEAD_S = 6 * 3600


def dumps(obj: Any) -> bytes:
    """Serialise an arq job or result as JSON; exceptions become their repr."""
    return json.dumps(obj, default=repr, separators=(",", ":")).encode()


def loads(data: bytes) -> Any:
    """Deserialise what `dumps` wrote."""
    return json.loads(data)


def redis_settings(settings: Settings, *, ride_out_s: float = 0) -> RedisSettings:
    """Return arq's connection settings; `ride_out_s` > 0 retries a lost Redis that long."""
    found = RedisSettings.from_dsn(settings.redis_url)
    if ride_out_s > 0:
        found.retry = riding_retry(ride_out_s)
        found.retry_on_error = list(RETRIED_ERRORS)
    return found


async def create_arq_pool(settings: Settings) -> ArqRedis:
    """Connect to the queue's Redis with the JSON serializer; close with `aclose()`."""
    return await create_pool(
        redis_settings(settings),
        job_serializer=dumps,
        job_deserializer=loads,
        default_queue_name=keys.QUEUE_NAME,
    )


async def queue_position(redis: Redis, job_id: str) -> int:
    """Return 1 + the number of jobs ahead (the running one included); 0 if not queued."""
    rank = await redis.zrank(keys.QUEUE_NAME, job_id)
    return 0 if rank is None else int(rank) + 1


async def queue_length(redis: Redis) -> int:
    """Return how many jobs wait in the queue."""
    return int(await redis.zcard(keys.QUEUE_NAME))


async def queued_job_ids(redis: Redis) -> list[str]:
    """Return the ids of the queued jobs, next first."""
    found = await redis.zrange(keys.QUEUE_NAME, 0, -1)
    return [raw.decode() if isinstance(raw, bytes) else str(raw) for raw in found]


async def worker_alive(redis: Redis) -> bool:
    """Return whether a worker wrote arq's health-check key (it expires after about 61 s)."""
    return bool(await redis.exists(keys.WORKER_HEALTH))


async def is_running(redis: Redis, job_id: str) -> bool:
    """Return whether a live worker holds the job's lease."""
    return bool(await redis.exists(keys.lease_key(job_id)))


async def enqueue_pack(
    arq: ArqRedis, state: StateStore, request: PackRequest, *, ttl_s: int = 7 * 24 * 3600
) -> Enqueued:
    """Queue the pack once per request_id; raise PackAlreadyActiveError for a second pack."""
    job_id = request.job_id
    # Indexed first, for erasure and retention, so no stored job is ever unknown to them.
    await state.index_add(keys.person_jobs_key(request.user_scope), job_id)
    created = await records.create_record(state, request, ttl_s)
    if not created and await _submitted(arq, state, job_id):
        return Enqueued(job_id, False, await queue_position(arq, job_id))
    # New, or an earlier call stopped before the job reached arq: (re)claim the slot and submit.
    active = await active_job(state, request.user_scope)
    marker = {"job_id": job_id}
    if active == job_id or (
        active is None
        and await state.set_if_absent(keys.active_key(request.user_scope), marker, ttl_s)
    ):
        position = await _submit(arq, request, ttl_s)
        return Enqueued(job_id, created, position)
    if created:
        await records.delete_record(state, job_id)
    raise PackAlreadyActiveError(active or "another job")


async def _submitted(arq: ArqRedis, state: StateStore, job_id: str) -> bool:
    record = await records.load_record(state, job_id)
    if record is None or record.status is not JobStatus.QUEUED:
        return True  # running or over
    return bool(await arq.exists(keys.arq_job_key(job_id)))


async def _submit(arq: ArqRedis, request: PackRequest, ttl_s: int) -> int:
    job_id = request.job_id
    await open_stream(arq, job_id, ttl_s)
    await arq.enqueue_job(
        PACK_JOB, request.to_json(), _job_id=job_id, _queue_name=keys.QUEUE_NAME,
        _defer_by=_priority_s(request),
    )  # fmt: skip
    position = await queue_position(arq, job_id)
    typical = await eta.typical(arq, request.tier)
    eta_s = eta.queue_eta_s(typical.stage_s, position)
    event = Queued(job_id=job_id, position=position, eta_s=eta_s,
                   first_estimate=typical.first_estimate)  # fmt: skip
    await publish_event(arq, event, ttl_s)
    return position


def _priority_s(request: PackRequest) -> float | None:
    """Return arq's `_defer_by` for the request: negative moves it ahead in the queue."""
    return -REROLL_AHEAD_S if request.reroll is not None else None


async def active_job(state: StateStore, user_scope: str) -> str | None:
    """Return the person's queued or running job id, clearing a stale marker."""
    marker = await state.get(keys.active_key(user_scope))
    if marker is None:
        return None
    job_id = str(marker["job_id"])
    record = await records.load_record(state, job_id)
    if record is None or record.status.terminal:
        await state.delete(keys.active_key(user_scope))
        return None
    return job_id


async def cancel_pack(
    arq: ArqRedis, state: StateStore, job_id: str, *, ttl_s: int = 8 * 86400, announce: bool = True
) -> bool:
    """Stop a queued or running pack; return False if it had already finished.

    `announce=False` publishes no "cancelled" event for a queued pack: erasure stops it, and a
    notice about a job being erased would only write a delivery marker after the erasure.
    """
    record = await records.load_record(state, job_id)
    if record is None or record.status.terminal:
        return False
    await records.request_cancel(state, job_id, ttl_s)
    if await is_running(arq, job_id):
        # A live worker runs it: it polls the cancel key between steps, removes what the job
        # stored and says so. arq's abort is the backstop should the job's coroutine not get there.
        await cast(Awaitable[int], arq.zadd(abort_jobs_ss, {job_id: int(time.time() * 1000)}))
        return True
    if not await arq.exists(keys.arq_in_progress_key(job_id)):
        await arq.zrem(keys.QUEUE_NAME, job_id)
        await arq.delete(keys.arq_job_key(job_id))
    # Queued, or its worker died: nobody else would say it. A worker that picks the job up
    # later finds the cancelled record and only removes what was stored.
    await records.finish_record(state, job_id, JobStatus.CANCELLED, ttl_s=ttl_s)
    if announce:
        await publish_event(arq, Cancelled(job_id=job_id), ttl_s)
    return True
