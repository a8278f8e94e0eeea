"""What the bot and the host know of the workers: one is live, none is, or none can start.

A worker that cannot start (no base model, a bad studio setting) leaves its reason here before it
exits, so the person hears "not available on this host" instead of "wait", and `doctor` and the
supervisor can say why. The next worker that starts clears it.
"""

from __future__ import annotations

from enum import StrEnum

from redis.asyncio import Redis

from engine.jobs import keys
from engine.jobs.queue import worker_alive

UNAVAILABLE_TTL_S = 7 * 24 * 3600  # a host that stopped trying is forgotten after a week


class WorkerState(StrEnum):
    """Whether packs are being made."""

    LIVE = "live"  # a worker polled in the last minute or so
    ABSENT = "absent"  # none polled lately: stopped, crashed, or still loading its model
    UNAVAILABLE = "unavailable"  # the last one could not start, and none is live


async def worker_state(redis: Redis) -> WorkerState:
    """Return the workers' state as the queue's Redis shows it."""
    if await worker_alive(redis):
        return WorkerState.LIVE
    if await redis.exists(keys.WORKER_UNAVAILABLE):
        return WorkerState.UNAVAILABLE
    return WorkerState.ABSENT


async def mark_unavailable(redis: Redis, reason: str) -> None:
    """Record why this worker cannot start (for the host; the person is told in plain words)."""
    await redis.set(keys.WORKER_UNAVAILABLE, reason, ex=UNAVAILABLE_TTL_S)


async def clear_unavailable(redis: Redis) -> None:
    """Forget an earlier failed start: a worker is up."""
    await redis.delete(keys.WORKER_UNAVAILABLE)
