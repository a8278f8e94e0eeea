"""A worker killed mid-training (SIGKILL) or stopped (SIGTERM): the job resumes and arrives once."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.text.messages import RESTARTED_NOTE
from bot.text.progress import CANCELLED_REPLY, FAILURE_REPLIES
from engine.jobs import (
    FailureCode,
    Training,
    active_job,
    cancel_pack,
    create_arq_pool,
    enqueue_pack,
    event_from_json,
)
from engine.jobs.keys import job_prefix, lease_key, queue_name, record_key, stream_key
from engine.jobs.records import open_state
from storage.blobs_open import open_blob_store
from tests.queue_harness import (
    RecordingSink,
    eventually,
    queue_settings,
    running_notifier,
    stored_request,
    stream_kinds,
    studio_calls,
    worker_process,
)


async def _trained_steps(redis: Redis, job_id: str) -> int:
    entries = await redis.xrange(stream_key(job_id))
    events = [event_from_json(fields[b"e"]) for _, fields in entries]
    return max((e.step for e in events if isinstance(e, Training)), default=0)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
async def test_a_worker_stopped_mid_training_resumes_and_delivers_once(
    tmp_path: Path, redis_url: str, sig: signal.Signals
) -> None:
    settings = queue_settings(tmp_path, redis_url)
    redis, state, blobs = (
        Redis.from_url(redis_url),
        open_state(redis_url),
        open_blob_store(settings),
    )
    sink = RecordingSink()
    request = await stored_request(blobs)
    async with running_notifier(settings, state, blobs, sink):
        with worker_process(settings, tmp_path, STANDIN_STEP_S="0.15") as first:
            arq = await create_arq_pool(settings)
            job_id = (await enqueue_pack(arq, state, request)).job_id
            await arq.aclose()

            async def training() -> bool:
                return await _trained_steps(redis, job_id) >= 3

            await eventually(training, "training to be under way")
            first.send_signal(sig)
            assert first.wait(timeout=20) is not None
        assert studio_calls(settings) == ["preprocess", "personalize"]
        with worker_process(settings, tmp_path, STANDIN_STEP_S="0.02"):

            async def delivered() -> bool:
                return len(sink.albums()) >= 2

            await eventually(delivered, "the pack after the restart")
    kinds = await stream_kinds(redis, job_id)
    assert kinds.count("done") == 1 and kinds[-1] == "done"
    # Resumed from the last stored stage: the crops were not made again; training was.
    assert studio_calls(settings) == [
        "preprocess",
        "personalize",
        "personalize",
        "generate",
        "select",
    ]
    assert len(sink.albums()) == 2
    # Training began again after the restart: the person reads why the percentage went back.
    learning = [t for t in sink.progress_texts() if "Learning your face" in t]
    restarted = [RESTARTED_NOTE in t for t in learning]
    assert (
        True in restarted and restarted.index(True) > 0 and all(restarted[restarted.index(True) :])
    )
    record = await state.get(record_key(job_id))
    assert record is not None and record["status"] == "done"
    await state.close()
    await redis.aclose()


async def test_a_job_that_keeps_killing_its_worker_is_failed_not_retried_forever(
    tmp_path: Path, redis_url: str
) -> None:
    settings = queue_settings(tmp_path, redis_url, pack_max_tries=1)
    redis, state, blobs = (
        Redis.from_url(redis_url),
        open_state(redis_url),
        open_blob_store(settings),
    )
    sink = RecordingSink()
    request = await stored_request(blobs)
    async with running_notifier(settings, state, blobs, sink):
        with worker_process(settings, tmp_path, STANDIN_STEP_S="0.15") as first:
            arq = await create_arq_pool(settings)
            job_id = (await enqueue_pack(arq, state, request)).job_id
            await arq.aclose()

            async def training() -> bool:
                return await _trained_steps(redis, job_id) >= 2

            await eventually(training, "training to be under way")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=20)
        with worker_process(settings, tmp_path, STANDIN_STEP_S="0.02"):

            async def told() -> bool:
                return bool(sink.replies())

            await eventually(told, "the failure reply")
    assert sink.replies() == [FAILURE_REPLIES[FailureCode.CRASHED]]
    assert (await stream_kinds(redis, job_id))[-1] == "failed"
    assert studio_calls(settings) == ["preprocess", "personalize"]
    record = await state.get(record_key(job_id))
    assert record is not None and record["status"] == "failed" and "gave up" in record["error"]
    await state.close()
    await redis.aclose()


async def test_cancel_while_the_worker_is_dead_is_told_at_once_and_cleaned_later(
    tmp_path: Path, redis_url: str
) -> None:
    settings = queue_settings(tmp_path, redis_url)
    redis, state, blobs = (
        Redis.from_url(redis_url),
        open_state(redis_url),
        open_blob_store(settings),
    )
    sink = RecordingSink()
    request = await stored_request(blobs)
    prefix = job_prefix(request.user_scope, request.job_id)
    async with running_notifier(settings, state, blobs, sink):
        with worker_process(settings, tmp_path, STANDIN_STEP_S="0.15") as first:
            arq = await create_arq_pool(settings)
            job_id = (await enqueue_pack(arq, state, request)).job_id

            async def training() -> bool:
                return await _trained_steps(redis, job_id) >= 2

            await eventually(training, "training to be under way")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=20)

        async def lease_gone() -> bool:
            return not await redis.exists(lease_key(job_id))

        await eventually(lease_gone, "the dead worker's lease to lapse")
        assert await cancel_pack(arq, state, job_id)
        await arq.aclose()

        async def told() -> bool:
            return bool(sink.replies())

        await eventually(told, "the cancel reply with no worker running")
        assert await blobs.list_keys(prefix)  # the crops are still there
        with worker_process(settings, tmp_path):

            async def cleaned() -> bool:
                return not await blobs.list_keys(prefix) and not await redis.zcard(
                    queue_name("studio")
                )

            await eventually(cleaned, "the returning worker to remove the job's blobs")
    assert sink.replies() == [CANCELLED_REPLY]
    assert await active_job(state, request.user_scope) is None
    assert studio_calls(settings) == ["preprocess", "personalize"]
    await state.close()
    await redis.aclose()
