"""The job event streams: the worker's publisher and the notifier's consumer-group reader.

One append-only Redis stream per job plus a latest-state key. Readers share a consumer group, so
bot replicas split the work and a restarted bot resumes where its group stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from engine.jobs import keys
from engine.jobs.events import (
    Cancelled,
    Done,
    Failed,
    JobEvent,
    event_from_json,
    event_to_json,
    is_terminal,
)

log = logging.getLogger(__name__)

STREAM_MAXLEN = 1000
WAKE_MAXLEN = 10
_STREAM_PREFIX = keys.stream_key("")


# Appends and sets the latest state in one step, unless the latest state is final and the new
# event is not: a late writer (a `Queued` published after a job that failed at once, a position
# update racing the job's end) must never make a finished job look alive again. A final event
# after a final one still goes through: a re-run after a crash publishes its end again.
_PUBLISH_LUA = """
local FINAL = {KINDS}
local latest = redis.call('GET', KEYS[2])
if latest and ARGV[4] == '0' then
  local ok, old = pcall(cjson.decode, latest)
  if ok and type(old) == 'table' and FINAL[old['kind']] then return false end
end
local entry = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return entry
"""
_FINAL_KINDS = (Done.kind, Failed.kind, Cancelled.kind)
_PUBLISH_SCRIPT = _PUBLISH_LUA.replace(
    "{KINDS}", "{" + ", ".join(f"{kind} = true" for kind in _FINAL_KINDS) + "}"
)


async def publish_event(redis: Redis, event: JobEvent, ttl_s: int) -> str | None:
    """Append the event to the job's stream and set it as the latest state; return its id.

    Return None, publishing nothing, for a non-final event about a job whose latest is final.
    """
    body = event_to_json(event)
    stream, latest = keys.stream_key(event.job_id), keys.latest_key(event.job_id)
    final = "1" if is_terminal(event) else "0"
    entry_id = await redis.eval(  # type: ignore[misc]
        _PUBLISH_SCRIPT, 2, stream, latest, body, str(ttl_s), str(STREAM_MAXLEN), final
    )
    return None if entry_id is None else _text(entry_id)


async def open_stream(
    redis: Redis, job_id: str, ttl_s: int, group: str = keys.NOTIFIER_GROUP
) -> None:
    """Create the job's stream with the readers' group, and wake blocked readers."""
    stream = keys.stream_key(job_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xgroup_create(stream, group, id="0", mkstream=True)
        pipe.expire(stream, ttl_s)
        pipe.sadd(keys.LIVE_STREAMS, stream)
        # The wake names no job: it only unblocks readers, and a job id kept here would outlive
        # the job's erasure. Readers never need old wakes, so a few are kept.
        pipe.xadd(keys.WAKE_STREAM, {"wake": "1"}, maxlen=WAKE_MAXLEN, approximate=False)
        await pipe.execute(raise_on_error=False)  # BUSYGROUP on a re-run is fine


async def latest_event(redis: Redis, job_id: str) -> JobEvent | None:
    """Return the job's newest event, or None when there is none (or it is unreadable)."""
    raw = await redis.get(keys.latest_key(job_id))
    if raw is None:
        return None
    try:
        return event_from_json(raw)
    except ValueError:
        return None


MakeEvent = Callable[[int, int], JobEvent]
"""Builds the event for `(done, total)`; called only when the event will be published."""


class ProgressPublisher:
    """One writer task drains a queue, so events reach the stream in the order they happened."""

    def __init__(self, redis: Redis, ttl_s: int, min_interval_s: float) -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._min_interval_s = min_interval_s
        self._queue: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._writer = asyncio.create_task(self._drain())
        self._last_at = 0.0
        self._last_kind = ""

    def emit(self, event: JobEvent) -> None:
        """Queue an event from the event loop, unthrottled."""
        self._last_kind = event.kind
        self._queue.put_nowait(event)

    def step_callback(self, make: MakeEvent) -> Callable[[int, int], None]:
        """Return an `on_progress(done, total)` for a stage thread, throttled at the source."""

        def on_progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - self._last_at < self._min_interval_s:
                return  # the last step always goes out; intermediate ones at most once a period
            self._last_at = now
            self._loop.call_soon_threadsafe(self._queue.put_nowait, make(done, total))

        return on_progress

    async def flush(self) -> None:
        """Wait until every queued event is in Redis."""
        await self._queue.join()

    async def close(self) -> None:
        """Publish what is queued, then stop the writer."""
        await self.flush()
        self._writer.cancel()
        await asyncio.wait([self._writer])

    async def publish_now(self, event: JobEvent) -> None:
        """Publish after everything queued before it; for terminal events."""
        await self.flush()
        await publish_event(self._redis, event, self._ttl_s)

    async def _drain(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await publish_event(self._redis, event, self._ttl_s)
            except Exception:  # a lost progress event must not fail the job; the next one follows
                log.exception("could not publish %s for %s", event.kind, event.job_id)
            finally:
                self._queue.task_done()


@dataclass(frozen=True)
class StreamBatch:
    """Events read from one job's stream in one call, with the entry ids to acknowledge."""

    job_id: str
    entry_ids: tuple[str, ...]
    events: tuple[JobEvent, ...]

    @property
    def stream(self) -> str:
        """Return the stream the batch came from."""
        return keys.stream_key(self.job_id)


class JobStreamReader:
    """Reads every live job stream in one consumer group; a read blocks until an event or a wake."""

    def __init__(self, redis: Redis, group: str, consumer: str, claim_idle_s: float) -> None:
        self._redis, self._group, self._consumer = redis, group, consumer
        self._claim_idle_ms = int(claim_idle_s * 1000)
        self._next_claim_at = 0.0

    async def join(self) -> list[StreamBatch]:
        """Join the group; return this consumer's unacknowledged events from before."""
        try:
            await self._redis.xgroup_create(keys.WAKE_STREAM, self._group, id="$", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        return await self._read(await self._streams(), "0", None)

    async def read(self, wait_s: float) -> list[StreamBatch]:
        """Return events dead consumers left (when due), then new ones, waiting up to wait_s."""
        batches: list[StreamBatch] = []
        if time.monotonic() >= self._next_claim_at:
            self._next_claim_at = time.monotonic() + self._claim_idle_ms / 2000
            batches += await self._claim_stale()
        streams = [*await self._streams(), keys.WAKE_STREAM]
        return batches + await self._read(streams, ">", wait_s)

    async def ack(self, batch: StreamBatch) -> None:
        """Acknowledge a batch: the group will not hand it out again."""
        await self._redis.xack(batch.stream, self._group, *batch.entry_ids)

    async def retire(self, batch: StreamBatch) -> None:
        """Acknowledge a job's last batch and stop reading its stream."""
        await self.ack(batch)
        await self._redis.srem(keys.LIVE_STREAMS, batch.stream)  # type: ignore[misc]

    async def _streams(self) -> list[str]:
        members = await self._redis.smembers(keys.LIVE_STREAMS)  # type: ignore[misc]
        return sorted(_text(name) for name in members)

    async def _read(
        self, streams: list[str], start: str, wait_s: float | None
    ) -> list[StreamBatch]:
        if not streams:
            return []
        block = None if wait_s is None else max(1, int(wait_s * 1000))
        try:
            found = await self._redis.xreadgroup(
                self._group, self._consumer, dict.fromkeys(streams, start), count=100, block=block
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            await self._repair(streams)
            return []
        batches = []
        for name, entries in found or []:
            batch = await self._batch(_text(name), entries)
            if batch is not None:
                batches.append(batch)
        return batches

    async def _claim_stale(self) -> list[StreamBatch]:
        """Take over events another replica (or this one, before a crash) left unacknowledged."""
        batches = []
        for stream in await self._streams():
            try:
                reply = await self._redis.xautoclaim(
                    stream, self._group, self._consumer, self._claim_idle_ms, count=100
                )
            except ResponseError:
                continue  # the stream expired; _repair will drop it
            entries = [(i, fields) for i, fields in reply[1] if fields]
            batch = await self._batch(stream, entries) if entries else None
            if batch is not None:
                batches.append(batch)
        return batches

    async def _batch(self, stream: str, entries: list[Any]) -> StreamBatch | None:
        ids = tuple(_text(entry_id) for entry_id, _ in entries)
        if not ids:
            return None
        if stream == keys.WAKE_STREAM:
            await self._redis.xack(stream, self._group, *ids)  # a wake carries nothing to show
            return None
        job_id = stream.removeprefix(_STREAM_PREFIX)
        return StreamBatch(job_id, ids, tuple(_parse(entries)))

    async def _repair(self, streams: list[str]) -> None:
        """Drop expired job streams; give a stream that lost its group a new one."""
        for stream in streams:
            if not await self._redis.exists(stream):
                await self._redis.srem(keys.LIVE_STREAMS, stream)  # type: ignore[misc]
                continue
            with contextlib.suppress(ResponseError):  # BUSYGROUP: it has one
                await self._redis.xgroup_create(stream, self._group, id="0")


def _parse(entries: list[Any]) -> list[JobEvent]:
    events: list[JobEvent] = []
    for entry_id, fields in entries:
        body = fields.get(b"e", fields.get("e")) if isinstance(fields, dict) else None
        try:
            events.append(event_from_json(body or b""))
        except (ValueError, TypeError):
            log.warning("unreadable event %s: %r", _text(entry_id), body)
    return events


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)
