"""Publishes one job's progress events in order, from the event loop or from a stage's thread."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis

from engine.jobs import JobEvent, publish_event

log = logging.getLogger(__name__)

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
