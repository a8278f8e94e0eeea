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
    Tier,
)
from engine.jobs.events import Cancelled, Queued
from engine.jobs.redis_retry import RETRIED_ERRORS, riding_retry
from engine.jobs.stream import open_stream, publish_event
from engine.jobs.workers import live_workers
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
        default_queue_name=keys.queue_name(Tier.STUDIO),  # every enqueue names its tier's queue
    )


def _tiers(tier: Tier | None) -> tuple[Tier, ...]:
    return tuple(Tier) if tier is None else (tier,)


async def queue_position(redis: Redis, job_id: str, tier: Tier) -> int:
    """Return 1 + the jobs ahead in the tier's queue (running ones included); 0 if not queued."""
    rank = await redis.zrank(keys.queue_name(tier), job_id)
    return 0 if rank is None else int(rank) + 1


async def queue_length(redis: Redis, tier: Tier | None = None) -> int:
    """Return how many jobs wait in the tier's queue (None: in every tier's), running included."""
    return sum([int(await redis.zcard(keys.queue_name(each))) for each in _tiers(tier)])


async def queued_job_ids(redis: Redis, tier: Tier | None = None) -> list[str]:
    """Return the ids of the tier's queued jobs, next first (None: every tier's, tier by tier)."""
    found = []
    for each in _tiers(tier):
        found += await redis.zrange(keys.queue_name(each), 0, -1)
    return [_text(raw) for raw in found]


async def oldest_wait_s(redis: Redis, tier: Tier) -> float:
    """Return how long the tier's longest-waiting job not yet started has waited (0: none waits).

    Read from the enqueue time arq stores with the job, not the queue's score: a re-roll's score
    is moved hours ahead of its enqueue time (REROLL_AHEAD_S).
    """
    now_ms = time.time() * 1000
    waits = [0.0]
    for job_id in await queued_job_ids(redis, tier):
        if await redis.exists(keys.arq_in_progress_key(job_id)):
            continue
        payload = await _payload(redis, job_id)
        if payload is not None:
            waits.append(max(now_ms - float(payload.get("et", now_ms)), 0.0) / 1000)
    return max(waits)


async def move_legacy_jobs(redis: Redis) -> list[str]:
    """Move the packs still waiting in the single queue of old to their tier's queue.

    Run at every worker start and orphan sweep, so an upgrade loses nothing: a job an old worker
    still runs is left until it ends or its in-progress mark lapses. Return the moved ids.
    """
    moved = []
    for raw, score in await redis.zrange(keys.LEGACY_QUEUE, 0, -1, withscores=True):
        job_id = _text(raw)
        if await redis.exists(keys.arq_in_progress_key(job_id)):
            continue
        tier = _tier_of(await _payload(redis, job_id))
        async with redis.pipeline(transaction=True) as pipe:
            if tier is not None:  # anything else (an old cron run, a lapsed job) is dropped
                pipe.zadd(keys.queue_name(tier), {job_id: score}, nx=True)
            pipe.zrem(keys.LEGACY_QUEUE, job_id)
            await pipe.execute()
        if tier is not None:
            moved.append(job_id)
    return moved


async def _payload(redis: Redis, job_id: str) -> dict[str, Any] | None:
    raw = await redis.get(keys.arq_job_key(job_id))
    if raw is None:
        return None
    try:
        found = loads(raw)
    except ValueError:  # not ours (a pickled job of a foreign client)
        return None
    return found if isinstance(found, dict) else None


def _tier_of(payload: dict[str, Any] | None) -> Tier | None:
    """Return the tier of a queued pack job's request, None for any other job."""
    if payload is None or payload.get("f") != PACK_JOB or not payload.get("a"):
        return None
    return PackRequest.from_json(payload["a"][0]).tier


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


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
        return Enqueued(job_id, False, await queue_position(arq, job_id, request.tier))
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
    job_id, tier = request.job_id, request.tier  # a re-roll carries its pack's tier
    await open_stream(arq, job_id, ttl_s)
    await arq.enqueue_job(
        PACK_JOB, request.to_json(), _job_id=job_id, _queue_name=keys.queue_name(tier),
        _defer_by=_priority_s(request),
    )  # fmt: skip
    position = await queue_position(arq, job_id, tier)
    typical = await eta.typical(arq, tier)
    eta_s = eta.queue_eta_s(typical.stage_s, position, await live_workers(arq, tier))
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
        await arq.zrem(keys.queue_name(record.request.tier), job_id)
        await arq.delete(keys.arq_job_key(job_id))
    # Queued, or its worker died: nobody else would say it. A worker that picks the job up
    # later finds the cancelled record and only removes what was stored.
    await records.finish_record(state, job_id, JobStatus.CANCELLED, ttl_s=ttl_s)
    if announce:
        await publish_event(arq, Cancelled(job_id=job_id), ttl_s)
    return True
