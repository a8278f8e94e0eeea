"""A real worker process and a real notifier on a real Redis: delivery, failure, cancel, restart."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.chat.events import SendAlbum
from bot.text.progress import CANCELLED_REPLY, FAILURE_REPLIES
from core.settings import Settings
from engine.jobs import (
    FailureCode,
    PackRequest,
    Training,
    active_job,
    cancel_pack,
    create_arq_pool,
    enqueue_pack,
    event_from_json,
)
from engine.jobs.keys import job_prefix, queue_name, record_key, stream_key
from engine.jobs.records import open_state
from storage.blobs import BlobStore
from storage.blobs_open import open_blob_store
from storage.state_redis import RedisStateStore
from tests.queue_harness import (
    ROOT,
    RecordingSink,
    eventually,
    queue_settings,
    running_notifier,
    stored_request,
    stream_kinds,
    studio_calls,
    worker_process,
)

ORDER = ["queued", "preparing", "training", "generating", "selecting", "delivering", "done"]


@dataclass
class Rig:
    settings: Settings
    redis: Redis
    state: RedisStateStore
    blobs: BlobStore
    workdir: Path

    async def enqueue(self, request: PackRequest) -> str:
        arq = await create_arq_pool(self.settings)
        try:
            return (await enqueue_pack(arq, self.state, request)).job_id
        finally:
            await arq.aclose()

    async def kinds(self, job_id: str) -> list[str]:
        return await stream_kinds(self.redis, job_id)

    async def training_step(self, job_id: str) -> int:
        entries = await self.redis.xrange(stream_key(job_id))
        steps = [e.step for _, f in entries if isinstance(e := event_from_json(f[b"e"]), Training)]
        return max(steps, default=0)


@pytest.fixture
async def rig(tmp_path: Path, redis_url: str) -> AsyncIterator[Rig]:
    settings = queue_settings(tmp_path, redis_url)
    redis = Redis.from_url(redis_url)
    state = open_state(redis_url)
    yield Rig(settings, redis, state, open_blob_store(settings), tmp_path)
    await state.close()
    await redis.aclose()


def _collapsed(kinds: list[str]) -> list[str]:
    return [kind for kind, _ in itertools.groupby(kinds)]


async def test_a_pack_is_delivered_with_every_event_in_order(rig: Rig) -> None:
    sink = RecordingSink()
    request = await stored_request(rig.blobs, styles=("office", "outdoor"), pack_size=3)
    with worker_process(rig.settings, rig.workdir):
        async with running_notifier(rig.settings, rig.state, rig.blobs, sink):
            job_id = await rig.enqueue(request)
            await eventually(lambda: _has(sink, 2), "two albums")
    assert _collapsed(await rig.kinds(job_id)) == ORDER
    entries = await rig.redis.xrange(stream_key(job_id))
    steps = [e.step for _, f in entries if isinstance(e := event_from_json(f[b"e"]), Training)]
    assert steps == sorted(steps) and steps[-1] == 20  # throttled, but the last step always
    albums = sink.of(SendAlbum)
    assert [a.caption for a in albums] == ["Office: 3 headshots", "Outdoor: 3 headshots"]
    assert all(image.startswith(b"\x89PNG") for a in albums for image in a.images)
    texts = sink.progress_texts()
    assert all(a != b for a, b in itertools.pairwise(texts)), texts
    assert texts[-1].startswith("Your headshots are ready")
    assert any("Learning your face" in text for text in texts)
    assert studio_calls(rig.settings) == ["preprocess", "personalize", "generate", "select"]
    assert await active_job(rig.state, request.user_scope) is None
    record = await rig.state.get(record_key(job_id))
    assert record is not None and record["status"] == "done"


@pytest.mark.parametrize(
    ("code", "reply"),
    [("", FAILURE_REPLIES[FailureCode.ERROR]), ("no_face", FAILURE_REPLIES[FailureCode.NO_FACE])],
    ids=["internal", "named-by-the-engine"],
)
async def test_a_stage_that_raises_fails_once_with_a_clear_message(
    rig: Rig, code: str, reply: str
) -> None:
    sink = RecordingSink()
    request = await stored_request(rig.blobs)
    env = {"STANDIN_FAIL_IN": "generate", "STANDIN_FAILURE_CODE": code}
    with worker_process(rig.settings, rig.workdir, **env):
        async with running_notifier(rig.settings, rig.state, rig.blobs, sink):
            job_id = await rig.enqueue(request)
            await eventually(lambda: _true(bool(sink.replies())), "the failure reply")
            await eventually(lambda: _not_queued(rig.redis, job_id), "the job to leave the queue")
    assert sink.replies() == [reply]
    assert (await rig.kinds(job_id))[-1] == "failed"
    assert studio_calls(rig.settings).count("generate") == 1
    assert await rig.blobs.list_keys(job_prefix(request.user_scope, job_id)) == []
    assert await active_job(rig.state, request.user_scope) is None
    listing = _cli(rig.settings, "jobs", "--all")
    assert job_id in listing and "stand-in studio told to fail in generate" in listing


async def test_a_pack_whose_filter_keeps_nothing_fails_plainly(rig: Rig) -> None:
    sink = RecordingSink()
    request = await stored_request(rig.blobs)
    with worker_process(rig.settings, rig.workdir, STANDIN_KEEP_NONE="1"):
        async with running_notifier(rig.settings, rig.state, rig.blobs, sink):
            job_id = await rig.enqueue(request)
            await eventually(lambda: _true(bool(sink.replies())), "the failure reply")
    assert sink.replies() == [FAILURE_REPLIES[FailureCode.EMPTY]]
    assert not sink.albums()
    assert (await rig.kinds(job_id))[-1] == "failed"


async def test_cancel_during_training_stops_tells_and_cleans_up(rig: Rig) -> None:
    sink = RecordingSink()
    request = await stored_request(rig.blobs)
    prefix = job_prefix(request.user_scope, request.job_id)
    with worker_process(rig.settings, rig.workdir, STANDIN_STEP_S="0.3"):
        async with running_notifier(rig.settings, rig.state, rig.blobs, sink):
            job_id = await rig.enqueue(request)
            await eventually(lambda: _true_async(rig.training_step(job_id), 2), "training")
            assert await rig.blobs.list_keys(prefix)  # the crops were stored
            arq = await create_arq_pool(rig.settings)
            assert await cancel_pack(arq, rig.state, job_id)
            await arq.aclose()
            # Six steps of 0.3 s would be left; the worker must stop well before the end.
            await eventually(lambda: _true(bool(sink.replies())), "the cancel reply", timeout_s=3)
    assert sink.replies() == [CANCELLED_REPLY]
    assert (await rig.kinds(job_id))[-1] == "cancelled"
    assert await rig.training_step(job_id) < 20
    assert await rig.blobs.list_keys(prefix) == []
    assert len(await rig.blobs.list_keys(request.user_scope)) == 3  # the selfies stay
    assert "generate" not in studio_calls(rig.settings)
    assert await active_job(rig.state, request.user_scope) is None


async def test_a_bot_down_during_the_job_delivers_once_after_restart(rig: Rig) -> None:
    sink = RecordingSink()
    request = await stored_request(rig.blobs)
    with worker_process(rig.settings, rig.workdir, STANDIN_STEP_S="0.1"):
        async with running_notifier(rig.settings, rig.state, rig.blobs, sink, "bot-a"):
            job_id = await rig.enqueue(request)
            await eventually(lambda: _true_async(rig.training_step(job_id), 1), "training")
        shown_before_stop = len(sink.progress_texts())
        await eventually(lambda: _last_is(rig, job_id, "done"), "the job to finish")
    assert not sink.albums()
    async with running_notifier(rig.settings, rig.state, rig.blobs, sink, "bot-b"):
        await eventually(lambda: _has(sink, 2), "two albums after the restart")
    async with running_notifier(rig.settings, rig.state, rig.blobs, sink, "bot-a"):
        await eventually(lambda: _quiet(rig, job_id), "the restarted bot to settle")
    assert len(sink.albums()) == 2
    assert shown_before_stop >= 1
    # Coalesced: the restarted bot shows the end, not every step it missed.
    assert len(sink.progress_texts()) - shown_before_stop <= 2


# ----- helpers ------------------------------------------------------------------------------


async def _true(value: bool) -> bool:
    return value


async def _true_async(value: object, at_least: int) -> bool:
    return int(await value) >= at_least  # type: ignore[misc]


async def _has(sink: RecordingSink, albums: int) -> bool:
    return len(sink.albums()) >= albums


async def _not_queued(redis: Redis, job_id: str) -> bool:
    return await redis.zscore(queue_name("studio"), job_id) is None


async def _last_is(rig: Rig, job_id: str, kind: str) -> bool:
    kinds = await rig.kinds(job_id)
    return bool(kinds) and kinds[-1] == kind


async def _quiet(rig: Rig, job_id: str) -> bool:
    """True once no stream entry of the job is left unacknowledged by the group."""
    pending = await rig.redis.xpending(stream_key(job_id), "notifier")
    live = await rig.redis.sismember("hs:events:live", stream_key(job_id))  # type: ignore[misc]
    return int(pending["pending"]) == 0 and not live


def _cli(settings: Settings, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADSHOTS_")}
    env |= {
        "HEADSHOTS_REDIS_URL": settings.redis_url,
        "HEADSHOTS_STORAGE_URL": settings.storage_url,
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.local_storage_root().parent,
    )
    return result.stdout
