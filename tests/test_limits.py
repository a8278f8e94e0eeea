"""Abuse limits against a real Redis: daily packs, the global queue, private deployments."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.limits import Limits, count_pack, pack_refusal
from engine.jobs import QUEUE_NAME
from storage.state_redis import RedisStateStore


async def test_daily_pack_quota(redis_url: str) -> None:
    state = RedisStateStore.from_url(redis_url)
    redis = Redis.from_url(redis_url)
    limits = Limits(packs_per_day=2)
    assert await pack_refusal(state, redis, "telegram-a", limits) is None
    await count_pack(state, "telegram-a")
    assert await pack_refusal(state, redis, "telegram-a", limits) is None
    await count_pack(state, "telegram-a")
    refusal = await pack_refusal(state, redis, "telegram-a", limits)
    assert refusal is not None
    assert "2 packs today" in refusal
    assert await pack_refusal(state, redis, "telegram-b", limits) is None  # per person
    await redis.aclose()
    await state.close()


async def test_full_queue_says_busy_with_an_estimate(redis_url: str) -> None:
    state = RedisStateStore.from_url(redis_url)
    redis = Redis.from_url(redis_url)
    await redis.zadd(QUEUE_NAME, {"job-1": 1, "job-2": 2})
    assert await pack_refusal(state, redis, "telegram-a", Limits(max_queue_length=3)) is None
    refusal = await pack_refusal(state, redis, "telegram-a", Limits(max_queue_length=2))
    assert refusal is not None
    assert "2 packs waiting" in refusal
    assert "minutes" in refusal
    await redis.aclose()
    await state.close()


def test_allow_list() -> None:
    assert Limits().allows("telegram", "1")
    private = Limits(allowed_users=frozenset({"telegram:1"}))
    assert private.allows("telegram", "1")
    assert not private.allows("telegram", "2")
    assert not private.allows("discord", "1")
