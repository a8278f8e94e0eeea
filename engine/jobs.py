"""The queue contract shared by the bot and the GPU worker: payloads, progress events, queue calls.

Imports no heavy library, so the bot process can load it. Everything crosses Redis as JSON: job
payloads through arq's serializer hooks (never pickle), progress events as stream entries.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from typing import Any, cast

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.constants import abort_jobs_ss, in_progress_key_prefix, job_key_prefix, result_key_prefix
from redis.asyncio import Redis

from engine import eta
from engine.job_events import (
    Cancelled,
    Delivering,
    Done,
    Failed,
    Generating,
    JobEvent,
    Preparing,
    ProgressEvent,
    Queued,
    Selecting,
    StyleResult,
    TerminalEvent,
    Training,
    event_from_json,
    event_to_json,
    is_terminal,
)
from storage.errors import HeadshotsError
from storage.settings import Settings
from storage.state import StateStore

__all__ = [
    "Cancelled",
    "Delivering",
    "Done",
    "Enqueued",
    "Failed",
    "Generating",
    "JobEvent",
    "PackAlreadyActiveError",
    "PackRequest",
    "Preparing",
    "ProgressEvent",
    "Queued",
    "Selecting",
    "StyleResult",
    "TerminalEvent",
    "Training",
    "active_job",
    "cancel_pack",
    "create_arq_pool",
    "enqueue_pack",
    "event_from_json",
    "event_to_json",
    "is_terminal",
    "publish_event",
]

PACK_JOB = "pack"
QUEUE_NAME = "headshots:gpu"
PAYLOAD_VERSION = 1
SUBJECTS = ("man", "woman", "person")
NOTIFIER_GROUP = "notifier"
LIVE_STREAMS = "hs:events:live"  # set of the job streams the notifier reads
WAKE_STREAM = "hs:events:wake"  # tells a blocked notifier that a new job stream exists
STREAM_MAXLEN = 1000
TERMINAL_STATUSES = frozenset({"done", "failed", "cancelled"})


class PackAlreadyActiveError(HeadshotsError):
    """The person already has a pack queued or running; one at a time."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"a pack is already queued or running: {job_id}")
        self.job_id = job_id


@dataclass(frozen=True)
class PackRequest:
    """One confirmed order: who asked, from which selfies, for what."""

    platform: str
    chat_id: str
    user_id: str
    user_scope: str  # storage.keys.user_scope(platform, user_id)
    selfie_keys: tuple[str, ...]
    subject: str  # "man", "woman" or "person"
    style_ids: tuple[str, ...]
    pack_size: int  # images kept per style
    seed: int
    request_id: str  # stable per confirmation: a double tap gives the same job
    version: int = PAYLOAD_VERSION

    def __post_init__(self) -> None:
        if self.subject not in SUBJECTS:
            raise ValueError(f"subject must be one of {SUBJECTS}: {self.subject!r}")
        if not self.selfie_keys or not self.style_ids or self.pack_size < 1:
            raise ValueError("a pack needs selfies, styles and a pack size of at least 1")

    @property
    def job_id(self) -> str:
        """Return the job id derived from the person and the request."""
        digest = hashlib.sha256(f"{self.user_scope}:{self.request_id}".encode()).hexdigest()
        return f"pack-{digest[:24]}"

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form carried as the job's argument."""
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PackRequest:
        """Rebuild from the JSON form, ignoring fields a newer version added."""
        data = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
        data |= {"selfie_keys": tuple(raw["selfie_keys"]), "style_ids": tuple(raw["style_ids"])}
        return cls(**data)


@dataclass(frozen=True)
class Enqueued:
    """What enqueue_pack did: the job, whether this call created it, and its queue position."""

    job_id: str
    created: bool
    position: int


# ----- keys ---------------------------------------------------------------------------------


def stream_key(job_id: str) -> str:
    """Return the Redis stream holding the job's events."""
    return f"hs:events:job:{job_id}"


def latest_key(job_id: str) -> str:
    """Return the Redis key holding the job's latest event."""
    return f"hs:latest:{job_id}"


def record_key(job_id: str) -> str:
    """Return the state key of the job record (request, status, error)."""
    return f"job:{job_id}"


def active_key(user_scope: str) -> str:
    """Return the state key naming the person's queued or running job."""
    return f"active:{user_scope}"


def cancel_key(job_id: str) -> str:
    """Return the state key whose presence asks the job to stop."""
    return f"cancel:{job_id}"


def lease_key(job_id: str) -> str:
    """Return the key a running job keeps alive while its worker lives."""
    return f"hs:lease:{job_id}"


def person_jobs_key(user_scope: str) -> str:
    """Return the state key listing every job a person started (under their own scope)."""
    return f"{user_scope}:jobs"


def shown_key(job_id: str) -> str:
    """Return the key holding the progress text the notifier last showed for the job."""
    return f"hs:notify:shown:{job_id}"


def delivery_key(job_id: str, platform: str, chat_id: str, part: str) -> str:
    """Return the key marking one part of the job's delivery to one chat as sending or sent."""
    return f"hs:delivery:{job_id}:{platform}:{chat_id}:{part}"


async def forget_job(
    redis: Redis, state: StateStore, job_id: str, *, keep_cancel: bool = False
) -> None:
    """Delete every trace of a job in Redis: record, stream, markers, and arq's own keys.

    `keep_cancel` leaves the cancel key (it expires by itself) for a job still running, so its
    worker sees the cancel, stops and removes what it stored, even after the rest is gone.
    """
    # arq's result key holds the request (with the person's ids): it may not outlive the job.
    markers = [key async for key in redis.scan_iter(match=delivery_key(job_id, "*", "*", "*"))]
    await redis.delete(
        stream_key(job_id), latest_key(job_id), lease_key(job_id), shown_key(job_id),
        job_key_prefix + job_id, result_key_prefix + job_id, *markers,
    )  # fmt: skip
    await redis.srem(LIVE_STREAMS, stream_key(job_id))  # type: ignore[misc]
    await state.delete(record_key(job_id), *([] if keep_cancel else [cancel_key(job_id)]))


def job_prefix(user_scope: str, job_id: str) -> str:
    """Return the blob prefix of everything a job stores."""
    return f"{user_scope}/jobs/{job_id}/"


# ----- serialisation and connections -----------------------------------------------------------


def dumps(obj: Any) -> bytes:
    """Serialise an arq job or result as JSON; exceptions become their repr."""
    return json.dumps(obj, default=repr, separators=(",", ":")).encode()


def loads(data: bytes) -> Any:
    """Deserialise what `dumps` wrote."""
    return json.loads(data)


def redis_settings(settings: Settings) -> RedisSettings:
    """Return arq's connection settings for the configured Redis."""
    return RedisSettings.from_dsn(settings.redis_url)


async def create_arq_pool(settings: Settings) -> ArqRedis:
    """Connect to the queue's Redis with the JSON serializer; close with `aclose()`."""
    return await create_pool(
        redis_settings(settings),
        job_serializer=dumps,
        job_deserializer=loads,
        default_queue_name=QUEUE_NAME,
    )


# ----- publishing and queue calls -----------------------------------------------------------


async def publish_event(redis: Redis, event: JobEvent, ttl_s: int) -> str:
    """Append the event to the job's stream and set it as the latest state; return its id."""
    body = event_to_json(event)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xadd(stream_key(event.job_id), {"e": body}, maxlen=STREAM_MAXLEN, approximate=True)
        pipe.expire(stream_key(event.job_id), ttl_s)
        pipe.set(latest_key(event.job_id), body, ex=ttl_s)
        entry_id, *_ = await pipe.execute()
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


async def open_stream(redis: Redis, job_id: str, ttl_s: int) -> None:
    """Create the job's stream with the notifier's group, and wake blocked notifiers."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xgroup_create(stream_key(job_id), NOTIFIER_GROUP, id="0", mkstream=True)
        pipe.expire(stream_key(job_id), ttl_s)
        pipe.sadd(LIVE_STREAMS, stream_key(job_id))
        pipe.xadd(WAKE_STREAM, {"job": job_id}, maxlen=100, approximate=True)
        await pipe.execute(raise_on_error=False)  # BUSYGROUP on a re-run is fine


async def queue_position(redis: Redis, job_id: str) -> int:
    """Return 1 + the number of jobs ahead (the running one included); 0 if not queued."""
    rank = await redis.zrank(QUEUE_NAME, job_id)
    return 0 if rank is None else int(rank) + 1


async def enqueue_pack(
    arq: ArqRedis, state: StateStore, request: PackRequest, *, ttl_s: int = 7 * 24 * 3600
) -> Enqueued:
    """Queue the pack once per request_id; raise PackAlreadyActiveError for a second pack."""
    job_id = request.job_id
    await state.index_add(person_jobs_key(request.user_scope), job_id)  # for erasure and retention
    record = {"job_id": job_id, "request": request.to_json(), "status": "queued", "at": time.time()}
    created = await state.set_if_absent(record_key(job_id), record, ttl_s)
    if not created and await _submitted(arq, state, job_id):
        return Enqueued(job_id, False, await queue_position(arq, job_id))
    # New, or an earlier call stopped before the job reached arq: (re)claim the slot and submit.
    active = await active_job(state, request.user_scope)
    marker = {"job_id": job_id}
    if active == job_id or (
        active is None and await state.set_if_absent(active_key(request.user_scope), marker, ttl_s)
    ):
        position = await _submit(arq, request, ttl_s)
        return Enqueued(job_id, created, position)
    if created:
        await state.delete(record_key(job_id))
    raise PackAlreadyActiveError(active or "another job")


async def _submitted(arq: ArqRedis, state: StateStore, job_id: str) -> bool:
    record = await state.get(record_key(job_id))
    if record is None or record.get("status") != "queued":
        return True  # running or over
    return bool(await arq.exists(job_key_prefix + job_id))


async def _submit(arq: ArqRedis, request: PackRequest, ttl_s: int) -> int:
    job_id = request.job_id
    await open_stream(arq, job_id, ttl_s)
    await arq.enqueue_job(PACK_JOB, request.to_json(), _job_id=job_id, _queue_name=QUEUE_NAME)
    position = await queue_position(arq, job_id)
    eta_s = eta.queue_eta_s(await eta.typical_s(arq), position)
    await publish_event(arq, Queued(job_id=job_id, position=position, eta_s=eta_s), ttl_s)
    return position


async def active_job(state: StateStore, user_scope: str) -> str | None:
    """Return the person's queued or running job id, clearing a stale marker."""
    marker = await state.get(active_key(user_scope))
    if marker is None:
        return None
    job_id = str(marker["job_id"])
    record = await state.get(record_key(job_id))
    if record is None or record.get("status") in TERMINAL_STATUSES:
        await state.delete(active_key(user_scope))
        return None
    return job_id


async def cancel_pack(
    arq: ArqRedis, state: StateStore, job_id: str, *, ttl_s: int = 8 * 86400
) -> bool:
    """Stop a queued or running pack; return False if it had already finished."""
    record = await state.get(record_key(job_id))
    if record is None or record.get("status") in TERMINAL_STATUSES:
        return False
    await state.put(cancel_key(job_id), {"at": time.time()}, ttl_s)
    if await arq.exists(lease_key(job_id)):
        # A live worker runs it: it polls the cancel key between steps, removes what the job
        # stored and says so. arq's abort is the backstop should the job's coroutine not get there.
        await cast(Awaitable[int], arq.zadd(abort_jobs_ss, {job_id: int(time.time() * 1000)}))
        return True
    if not await arq.exists(in_progress_key_prefix + job_id):
        await arq.zrem(QUEUE_NAME, job_id)
        await arq.delete(job_key_prefix + job_id)
    # Queued, or its worker died: nobody else would say it. A worker that picks the job up
    # later finds the cancelled record and only removes what was stored.
    await finish_record(state, job_id, "cancelled", ttl_s=ttl_s)
    await publish_event(arq, Cancelled(job_id=job_id), ttl_s)
    return True


async def finish_record(
    state: StateStore, job_id: str, status: str, error: str | None = None, ttl_s: int = 8 * 86400
) -> None:
    """Mark the job record with its final status and free the person's active slot."""

    def mark(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        if doc is None:
            return None
        return {**doc, "status": status, "error": error, "finished_at": time.time()}

    doc = await state.update(record_key(job_id), mark, ttl_s)
    if doc is not None:
        scope = str(doc["request"]["user_scope"])
        marker = await state.get(active_key(scope))
        if marker is not None and marker.get("job_id") == job_id:
            await state.delete(active_key(scope))
