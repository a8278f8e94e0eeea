"""What the bot and the host know of the workers: which tiers have live ones, or why none can start.

Every worker beats into its tiers' sets (keys.workers_key) every BEAT_S, scored by Redis's own
clock (TIME), so hosts whose clocks disagree still agree on who is live; one silent for
GONE_AFTER_S counts as gone, and a draining worker leaves at once. A worker that cannot start (no
base model, a bad studio setting) leaves its reason here before it exits, so the person hears
"not available on this host" instead of "wait", and `doctor` and the supervisor can say why. The
next worker that starts clears it.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from redis.asyncio import Redis

from engine.jobs import keys
from engine.jobs.contract import Tier

UNAVAILABLE_TTL_S = 7 * 24 * 3600  # a host that stopped trying is forgotten after a week
BEAT_S = 5.0
GONE_AFTER_S = 20.0  # four beats missed: stopped, killed or cut off


class WorkerState(StrEnum):
    """Whether packs are being made."""

    LIVE = "live"  # a worker beat in the last GONE_AFTER_S
    ABSENT = "absent"  # none beat lately: stopped, crashed, or still loading its model
    UNAVAILABLE = "unavailable"  # the last one could not start, and none is live


async def redis_now_s(redis: Redis) -> float:
    """Return Redis's own clock, the one every heartbeat is scored by."""
    seconds, micros = await redis.time()
    return float(seconds) + float(micros) / 1e6


async def beat(redis: Redis, tiers: Iterable[Tier], worker_id: str) -> None:
    """Say that `worker_id` is live and takes the `tiers`' jobs; forget workers long silent."""
    now_s = await redis_now_s(redis)
    async with redis.pipeline(transaction=True) as pipe:
        for tier in tiers:
            key = keys.workers_key(tier)
            pipe.zadd(key, {worker_id: now_s})
            pipe.zremrangebyscore(key, "-inf", now_s - GONE_AFTER_S)
            pipe.expire(key, int(GONE_AFTER_S * 3))  # the set itself goes with its last worker
        await pipe.execute()


async def leave(redis: Redis, tiers: Iterable[Tier], worker_id: str) -> None:
    """Take `worker_id` out of its tiers' live sets: it takes no more jobs."""
    async with redis.pipeline(transaction=True) as pipe:
        for tier in tiers:
            pipe.zrem(keys.workers_key(tier), worker_id)
        await pipe.execute()


async def live_workers(redis: Redis, tier: Tier) -> int:
    """Return how many workers of `tier` beat in the last GONE_AFTER_S."""
    now_s = await redis_now_s(redis)
    return int(await redis.zcount(keys.workers_key(tier), now_s - GONE_AFTER_S, "+inf"))


async def worker_alive(redis: Redis, tier: Tier | None = None) -> bool:
    """Return whether a worker of `tier` (None: of any tier) is live."""
    tiers = tuple(Tier) if tier is None else (tier,)
    return any([await live_workers(redis, each) > 0 for each in tiers])


async def worker_state(redis: Redis, tier: Tier | None = None) -> WorkerState:
    """Return the state of `tier`'s workers (None: of any tier) as the queue's Redis shows it.

    UNAVAILABLE is the host's: it is said only while no worker of any tier is live. The reason
    is read before the heartbeats, as a starting worker beats before it clears the reason: the
    bot then never sees "none at all" in between.
    """
    failed = bool(await redis.exists(keys.WORKER_UNAVAILABLE))
    live = {each: await live_workers(redis, each) for each in Tier}
    if any(live[each] for each in ((tier,) if tier is not None else tuple(Tier))):
        return WorkerState.LIVE
    if failed and not any(live.values()):
        return WorkerState.UNAVAILABLE
    return WorkerState.ABSENT


async def mark_unavailable(redis: Redis, reason: str) -> None:
    """Record why this worker cannot start (for the host; the person is told in plain words)."""
    await redis.set(keys.WORKER_UNAVAILABLE, reason, ex=UNAVAILABLE_TTL_S)


async def clear_unavailable(redis: Redis) -> None:
    """Forget an earlier failed start: a worker is up."""
    await redis.delete(keys.WORKER_UNAVAILABLE)
