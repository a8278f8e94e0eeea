"""Abuse limits against a real Redis: daily packs, the global queue, private deployments."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from redis.asyncio import Redis

from bot.service.limits import Limits, count_pack, count_reroll, pack_refusal, reroll_refusal
from engine.jobs import (
    PackAlreadyActiveError,
    PackRequest,
    Tier,
    active_job,
    create_arq_pool,
    enqueue_pack,
)
from engine.jobs.keys import STATE_NAMESPACE, queue_name
from engine.jobs.records import open_state
from storage.blobs_open import open_blob_store
from tests.queue_harness import queue_settings, stored_request


async def test_daily_pack_quota(redis_url: str) -> None:
    state = open_state(redis_url)
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


async def test_daily_reroll_quota_is_its_own_and_keeps_the_pack_count(redis_url: str) -> None:
    state = open_state(redis_url)
    redis = Redis.from_url(redis_url)
    limits = Limits(packs_per_day=1, rerolls_per_day=2)
    await count_pack(state, "telegram-a")
    for _ in range(2):
        assert await reroll_refusal(state, "telegram-a", limits) is None
        await count_reroll(state, "telegram-a")
    refusal = await reroll_refusal(state, "telegram-a", limits)
    assert refusal is not None and "2 re-rolls today" in refusal
    assert await pack_refusal(state, redis, "telegram-a", limits) is not None  # still 1 pack
    assert await reroll_refusal(state, "telegram-b", limits) is None  # per person
    await redis.aclose()
    await state.close()


async def test_full_queue_says_busy_with_an_estimate(redis_url: str) -> None:
    state = open_state(redis_url)
    redis = Redis.from_url(redis_url)
    await redis.zadd(queue_name(Tier.STUDIO), {"job-1": 1, "job-2": 2})
    assert await pack_refusal(state, redis, "telegram-a", Limits(max_queue_length=3)) is None
    refusal = await pack_refusal(state, redis, "telegram-a", Limits(max_queue_length=2))
    assert refusal is not None
    assert "2 packs waiting" in refusal
    assert "minutes" in refusal
    # The busy studio queue does not hold an express pack back: its own queue is empty.
    express = await pack_refusal(
        state, redis, "telegram-a", Limits(max_queue_length=2), Tier.EXPRESS
    )
    assert express is None
    await redis.aclose()
    await state.close()


def test_allow_list() -> None:
    assert Limits().allows("telegram", "1")
    private = Limits(allowed_users=frozenset({"telegram:1"}))
    assert private.allows("telegram", "1")
    assert not private.allows("telegram", "2")
    assert not private.allows("discord", "1")


async def test_concurrent_orders_from_one_person_start_one_pack(
    redis_url: str, tmp_path: Path
) -> None:
    settings = queue_settings(tmp_path, redis_url)
    state, arq = open_state(redis_url), await create_arq_pool(settings)
    blobs = open_blob_store(settings)
    requests = [await stored_request(blobs, request_id=f"r{n}") for n in range(10)]

    async def order(request: PackRequest) -> str:
        try:
            return (await enqueue_pack(arq, state, request)).job_id
        except PackAlreadyActiveError:
            return "refused"

    outcomes = await asyncio.gather(*(order(r) for r in requests))
    started = [o for o in outcomes if o != "refused"]
    assert len(started) == 1, outcomes
    assert await arq.zcard(queue_name(Tier.STUDIO)) == 1
    assert await active_job(state, requests[0].user_scope) == started[0]
    await arq.aclose()
    await state.close()


async def test_the_daily_quota_survives_delete_and_names_nobody(
    redis_url: str, tmp_path: Path
) -> None:
    from bot.service.erase import erase_person
    from bot.service.limits import quota_key
    from bot.service.pack_queue import ArqPackQueue
    from storage.keys import user_scope

    settings = queue_settings(tmp_path, redis_url)
    state, arq = open_state(redis_url), await create_arq_pool(settings)
    blobs = open_blob_store(settings)
    scope, limits = user_scope("telegram", "4242"), Limits(packs_per_day=1)
    await count_pack(state, scope)
    assert await pack_refusal(state, arq, scope, limits) is not None
    await erase_person(scope, state, arq, blobs, ArqPackQueue(arq, state))
    assert await pack_refusal(state, arq, scope, limits) is not None, "/delete reset the quota"
    raw = [key.decode() async for key in arq.scan_iter("*")]
    assert raw, "the count is kept"
    assert not [key for key in raw if scope in key or "4242" in key], raw
    # The hash's key is a salt of the day: another day hashes the same person elsewhere, and
    # today's count and salt expire when the day (plus an hour's grace) is over.
    today = await quota_key(state, scope)
    assert await quota_key(state, scope, now_s=time.time() + 86400) != today
    ttl_s = await arq.ttl(STATE_NAMESPACE + today)
    assert 0 < ttl_s <= 86400 - time.time() % 86400 + 3600 + 1
    await arq.aclose()
    await state.close()
