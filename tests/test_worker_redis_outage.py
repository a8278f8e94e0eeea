"""A Redis restart (append-only on) while the worker idles or works: the same process carries on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from redis.asyncio import Redis

from core.settings import Settings
from engine.jobs import Training, create_arq_pool, enqueue_pack, event_from_json
from engine.jobs.keys import stream_key
from engine.jobs.records import open_state
from storage.blobs import BlobStore
from storage.blobs_open import open_blob_store
from storage.state import StateStore
from tests.queue_harness import (
    RecordingSink,
    eventually,
    queue_settings,
    running_notifier,
    stored_request,
    stream_kinds,
    worker_process,
)
from tests.servers import restartable_redis

DOWN_S = 3.0  # longer than the test worker's 1 s lease, so a lapsed lease is part of the test


async def _order(settings: Settings, state: StateStore, blobs: BlobStore, user: str) -> str:
    request = await stored_request(blobs, f"r{user}", user=user)
    arq = await create_arq_pool(settings)
    try:
        return (await enqueue_pack(arq, state, request)).job_id
    finally:
        await arq.aclose()


async def _training(redis: Redis, job_id: str) -> bool:
    entries = await redis.xrange(stream_key(job_id))
    return any(isinstance(event_from_json(f[b"e"]), Training) for _, f in entries)


async def test_the_worker_outlives_redis_restarts_idle_and_busy(tmp_path: Path) -> None:
    with restartable_redis(tmp_path) as server:
        settings = queue_settings(tmp_path, server.url)
        redis, state, blobs = (
            Redis.from_url(server.url),
            open_state(server.url),
            open_blob_store(settings),
        )
        sink = RecordingSink()
        async with running_notifier(settings, state, blobs, sink):
            with worker_process(settings, tmp_path, STANDIN_STEP_S="0.1") as worker:
                await asyncio.to_thread(server.restart, DOWN_S)  # while it idles
                first = await _order(settings, state, blobs, "41")

                async def training() -> bool:
                    return await _training(redis, first)

                await eventually(training, "the first pack to train")
                await asyncio.to_thread(server.restart, DOWN_S)  # while it works
                second = await _order(settings, state, blobs, "42")

                async def both_done() -> bool:
                    kinds = [await stream_kinds(redis, job) for job in (first, second)]
                    return all("done" in k for k in kinds)

                await eventually(both_done, "both packs after the restarts", timeout_s=90)
                assert worker.poll() is None, "the worker process exited"
        for job_id in (first, second):
            assert (await stream_kinds(redis, job_id)).count("done") == 1
        assert len(sink.albums()) == 4  # two styles each, every album once
        await state.close()
        await redis.aclose()
