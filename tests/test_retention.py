"""Retention against a real Redis and a real blob folder: nothing outlives the promise."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from engine.jobs import PackRequest
from engine.jobs.keys import active_key, record_key
from engine.jobs.records import open_state
from engine.jobs.retention import RetentionPolicy, sweep
from storage.blobs_local import LocalBlobStore
from storage.keys import user_scope
from storage.state_redis import RedisStateStore

HOUR = 3600.0
POLICY = RetentionPolicy(
    private_after_end_s=24 * HOUR, results_s=7 * 24 * HOUR, abandoned_s=48 * HOUR
)
ENDED_AT = 1_800_000_000.0


@pytest.fixture
async def state(redis_url: str) -> AsyncIterator[RedisStateStore]:
    store = open_state(redis_url)
    yield store
    await store.close()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def _entries(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def _ended_job(state: RedisStateStore, blobs: LocalBlobStore, status: str) -> PackRequest:
    scope = user_scope("telegram", "1")
    selfies = (f"{scope}/selfies/a", f"{scope}/selfies/b")
    request = PackRequest(
        platform="telegram", chat_id="1", user_id="1", user_scope=scope, selfie_keys=selfies,
        subject="man", style_ids=("grey",), pack_size=2, seed=1, request_id="r1",
    )  # fmt: skip
    prefix = f"{scope}/jobs/{request.job_id}/"
    names = ["crops/000.png", "crops.json", "lora.safetensors", "candidates/grey/000.png",
             "candidates.json", "results/grey/000.png", "selected.json"]  # fmt: skip
    for key in [*selfies, *(prefix + name for name in names)]:
        await blobs.put(key, b"x")
    record = {"job_id": request.job_id, "request": request.to_json(), "status": status,
              "finished_at": ENDED_AT}  # fmt: skip
    await state.put(record_key(request.job_id), record)
    return request


async def test_private_data_goes_after_grace_results_after_days(
    state: RedisStateStore, tmp_path: Path, redis: Redis
) -> None:
    blobs = LocalBlobStore(tmp_path)
    request = await _ended_job(state, blobs, "done")
    prefix = f"{request.user_scope}/jobs/{request.job_id}/"
    session = {"stage": "done", "updated_at": ENDED_AT}  # idle for good only after 48 h
    await state.put(f"{request.user_scope}:session", session)

    first = await sweep(state, blobs, redis, POLICY, now=ENDED_AT + 23 * HOUR)
    assert first.private_blobs == 0
    assert len(await blobs.list_keys("")) == 9

    second = await sweep(state, blobs, redis, POLICY, now=ENDED_AT + 25 * HOUR)
    assert second.private_blobs == 7
    assert await blobs.list_keys("") == [prefix + "results/grey/000.png", prefix + "selected.json"]

    third = await sweep(state, blobs, redis, POLICY, now=ENDED_AT + 8 * 24 * HOUR)
    assert (third.result_blobs, third.records) == (2, 1)
    assert await blobs.list_keys("") == []
    assert _entries(tmp_path) == []  # no empty folder tells whose job it was
    assert await state.get(record_key(request.job_id)) is None


async def test_running_jobs_are_never_swept(
    state: RedisStateStore, tmp_path: Path, redis: Redis
) -> None:
    blobs = LocalBlobStore(tmp_path)
    request = await _ended_job(state, blobs, "running")
    await state.put(active_key(request.user_scope), {"job_id": request.job_id})
    counts = await sweep(state, blobs, redis, POLICY, now=ENDED_AT + 30 * 24 * HOUR)
    assert (counts.private_blobs, counts.result_blobs, counts.abandoned_blobs) == (0, 0, 0)
    assert len(await blobs.list_keys("")) == 9


async def test_abandoned_selfies_go_live_sessions_stay(
    state: RedisStateStore, tmp_path: Path, redis: Redis
) -> None:
    blobs = LocalBlobStore(tmp_path)
    live, gone = user_scope("telegram", "10"), user_scope("telegram", "11")
    for scope in (live, gone):
        await blobs.put(f"{scope}/selfies/x", b"face")
    await state.put(f"{live}:session", {"stage": "capture", "updated_at": time.time()}, ttl_s=60)
    counts = await sweep(state, blobs, redis, POLICY)
    assert counts.abandoned_blobs == 1
    assert await blobs.list_keys("") == [f"{live}/selfies/x"]


async def test_worker_runs_the_sweep_every_quarter_hour(tmp_path: Path, redis_url: str) -> None:
    # Async on purpose: arq's Worker takes the running loop; from sync code it makes its own.
    from engine.jobs import Tier, create_arq_pool
    from engine.worker.runner import JobSlot, build_worker, sweep_retention
    from tests.queue_harness import queue_settings

    settings = queue_settings(tmp_path, redis_url)
    pool = await create_arq_pool(settings)
    parts = {"pool": pool, "slot": JobSlot(), "ctx": {}}
    worker = build_worker(settings, Tier.EXPRESS, with_cron=True, **parts)  # type: ignore[arg-type]
    [job] = worker.cron_jobs
    assert job.coroutine is sweep_retention
    assert job.minute == {0, 15, 30, 45}
    assert job.timeout_s is not None
    assert job.timeout_s <= settings.pack_timeout_s  # never lengthens arq's in-progress expiry
    # One tier's Worker runs it: the other's has no cron.
    assert build_worker(settings, Tier.STUDIO, with_cron=False, **parts).cron_jobs == []  # type: ignore[arg-type]
    await pool.aclose()
