"""One arq queue per tier: real worker processes serving one tier each, a real redis-server.

An express-only worker never takes a studio pack (it waits in its own queue until a studio worker
starts); a re-roll goes to its pack's tier; positions, lengths, estimates and metrics are per
tier; jobs left in the single queue of old move to their tier's queue when a worker starts; and
the person hears at the confirmation that their tier has no live worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import ImageOps
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from bot.text import messages
from bot.text.i18n import t
from bot.text.progress import FAILURE_REPLIES
from core.settings import Settings
from engine.jobs import (
    PACK_JOB,
    JobStatus,
    PackRequest,
    Queued,
    Tier,
    create_arq_pool,
    enqueue_pack,
    eta,
    latest_event,
    queue_length,
    queue_position,
)
from engine.jobs.contract import Reroll
from engine.jobs.keys import LEGACY_QUEUE, arq_in_progress_key, queue_name, workers_key
from engine.jobs.queue import move_legacy_jobs, oldest_wait_s, queued_job_ids
from engine.jobs.records import create_record, load_record, open_state
from engine.jobs.stream import open_stream
from engine.jobs.workers import GONE_AFTER_S, beat, live_workers, redis_now_s
from ops import metrics
from storage.blobs_open import open_blob_store
from storage.state import StateStore
from tests.fake_telegram import FakeTelegram
from tests.queue_harness import (
    RecordingSink,
    eventually,
    queue_settings,
    running_bot,
    running_notifier,
    stored_request,
    studio_calls,
    telegram_settings,
    worker_process,
)

EXPRESS_STANDIN = "tests.standin_studio:load_standin_express"


def _settings(tmp_path: Path, redis_url: str, **extra: object) -> Settings:
    return queue_settings(tmp_path, redis_url, express_studio=EXPRESS_STANDIN, **extra)


async def _requests(settings: Settings) -> tuple[PackRequest, PackRequest]:
    """Return a studio order of one person and an express order of another."""
    blobs = open_blob_store(settings)
    studio = await stored_request(blobs, "studio-order", user="1")
    express = replace(await stored_request(blobs, "express-order", user="2"), tier=Tier.EXPRESS)
    await blobs.close()
    return studio, express


async def _status(state: StateStore, job_id: str) -> JobStatus | None:
    record = await load_record(state, job_id)
    return None if record is None else record.status


def _is(state: StateStore, job_id: str, status: JobStatus) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await _status(state, job_id) is status

    return check


async def test_an_express_only_worker_never_takes_a_studio_job(
    tmp_path: Path, redis_url: str
) -> None:
    settings = _settings(tmp_path, redis_url)
    state, blobs, sink = open_state(redis_url), open_blob_store(settings), RecordingSink()
    redis = Redis.from_url(redis_url)
    studio, express = await _requests(settings)
    async with running_notifier(settings, state, blobs, sink):
        with worker_process(settings, tmp_path, "--tiers", "express"):
            arq = await create_arq_pool(settings)
            studio_id = (await enqueue_pack(arq, state, studio)).job_id
            express_id = (await enqueue_pack(arq, state, express)).job_id
            await arq.aclose()
            await eventually(_is(state, express_id, JobStatus.DONE), "the express pack")
            await asyncio.sleep(1.0)  # twenty polls of the worker: it must leave the studio job
            assert await _status(state, studio_id) is JobStatus.QUEUED
            assert await queued_job_ids(redis, Tier.STUDIO) == [studio_id]
            assert await live_workers(redis, Tier.EXPRESS) == 1
            assert await live_workers(redis, Tier.STUDIO) == 0
        assert studio_calls(settings) == ["preprocess", "personalize", "generate", "select"]
        assert len(sink.albums()) == 2  # the express pack's two styles, nothing of the studio's
        with worker_process(settings, tmp_path, "--tiers", "studio"):
            await eventually(_is(state, studio_id, JobStatus.DONE), "the studio pack")
            await eventually(lambda: _count(sink, 4), "the studio pack's albums")
    assert len(studio_calls(settings)) == 8  # each pack made once, by the worker of its tier
    failures = set(FAILURE_REPLIES.values())
    assert not [reply for reply in sink.replies() if reply in failures]  # no "that kind is off"
    await redis.aclose()
    await blobs.close()
    await state.close()


async def _count(sink: RecordingSink, albums: int) -> bool:
    return len(sink.albums()) >= albums


def test_a_bad_tier_or_one_without_a_backend_is_one_line_and_status_2(
    tmp_path: Path, redis_url: str
) -> None:
    import subprocess
    import sys

    from tests.queue_harness import _env

    settings = queue_settings(tmp_path, redis_url)  # the express backend setting is empty
    for tiers, says in (
        ("gold", "--tiers takes express and/or studio"),
        ("express", "HEADSHOTS_EXPRESS_STUDIO is empty"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "worker", "--tiers", tiers],
            env=_env(settings, {}), cwd=tmp_path, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert says in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


async def test_a_reroll_goes_to_its_packs_tier(tmp_path: Path, redis_url: str) -> None:
    settings = _settings(tmp_path, redis_url)
    state, arq = open_state(redis_url), await create_arq_pool(settings)
    studio, express = await _requests(settings)
    await enqueue_pack(arq, state, studio)  # someone waits in the studio queue
    # As the contact sheet builds it: the delivered pack's request, with the re-roll.
    reroll = replace(express, request_id="again", reroll=Reroll("express-job", "express-job"))
    job_id = (await enqueue_pack(arq, state, reroll)).job_id
    assert await queued_job_ids(arq, Tier.EXPRESS) == [job_id]
    assert await queued_job_ids(arq, Tier.STUDIO) == [studio.job_id]
    queued = await latest_event(arq, job_id)
    assert isinstance(queued, Queued) and queued.position == 1  # the studio job is not ahead
    await arq.aclose()
    await state.close()


async def test_positions_lengths_and_estimates_are_per_tier(tmp_path: Path, redis_url: str) -> None:
    settings = _settings(tmp_path, redis_url)
    state, arq = open_state(redis_url), await create_arq_pool(settings)
    blobs = open_blob_store(settings)
    studios = [await stored_request(blobs, f"s{n}", user=f"{n}") for n in range(3)]
    express = replace(await stored_request(blobs, "e", user="9"), tier=Tier.EXPRESS)
    one_pack_s = eta.default_pack_s(Tier.STUDIO)
    first, second = [await enqueue_pack(arq, state, r) for r in studios[:2]]
    assert (first.position, second.position) == (1, 2)
    assert (await enqueue_pack(arq, state, express)).position == 1
    assert await queue_position(arq, studios[1].job_id, Tier.STUDIO) == 2
    assert await queue_position(arq, studios[1].job_id, Tier.EXPRESS) == 0
    assert await queue_length(arq, Tier.STUDIO) == 2
    assert await queue_length(arq, Tier.EXPRESS) == 1
    assert await queue_length(arq) == 3
    event = await latest_event(arq, studios[1].job_id)
    assert isinstance(event, Queued) and event.eta_s == pytest.approx(1.5 * one_pack_s)
    # Two live studio workers take the queue two at a time; a silent one does not count.
    await beat(arq, [Tier.STUDIO], "host-a")
    await beat(arq, [Tier.STUDIO], "host-b")
    stale = await redis_now_s(arq) - GONE_AFTER_S - 1
    await arq.zadd(workers_key(Tier.STUDIO), {"host-gone": stale})
    assert await live_workers(arq, Tier.STUDIO) == 2
    third = await enqueue_pack(arq, state, studios[2])
    assert third.position == 3
    event = await latest_event(arq, studios[2].job_id)
    assert isinstance(event, Queued) and event.eta_s == pytest.approx(1.5 * one_pack_s)
    await blobs.close()
    await arq.aclose()
    await state.close()


async def _legacy_enqueue(settings: Settings, state: StateStore, request: PackRequest) -> None:
    """Queue `request` as the bot did before queues per tier: on the single queue."""
    arq = await create_arq_pool(settings)
    await state.index_add(f"{request.user_scope}:jobs", request.job_id)
    await create_record(state, request, settings.job_ttl_s)
    await open_stream(arq, request.job_id, settings.job_ttl_s)
    await arq.enqueue_job(PACK_JOB, request.to_json(), _job_id=request.job_id,
                          _queue_name=LEGACY_QUEUE)  # fmt: skip
    await arq.aclose()


async def test_jobs_in_the_old_single_queue_move_to_their_tier_when_a_worker_starts(
    tmp_path: Path, redis_url: str
) -> None:
    settings = _settings(tmp_path, redis_url)
    state, blobs, sink = open_state(redis_url), open_blob_store(settings), RecordingSink()
    redis = Redis.from_url(redis_url)
    studio, express = await _requests(settings)
    for request in (studio, express):
        await _legacy_enqueue(settings, state, request)
    assert await redis.zcard(LEGACY_QUEUE) == 2
    async with running_notifier(settings, state, blobs, sink):
        with worker_process(settings, tmp_path, "--tiers", "express"):
            await eventually(_is(state, express.job_id, JobStatus.DONE), "the express pack")
            assert await redis.zcard(LEGACY_QUEUE) == 0
            # The studio job was moved too, and waits for a studio worker.
            assert await queued_job_ids(redis, Tier.STUDIO) == [studio.job_id]
        with worker_process(settings, tmp_path):  # every configured tier
            await eventually(_is(state, studio.job_id, JobStatus.DONE), "the studio pack")
    await redis.aclose()
    await blobs.close()
    await state.close()


async def test_a_legacy_job_still_running_stays_until_its_old_worker_lets_go(
    tmp_path: Path, redis_url: str
) -> None:
    settings = _settings(tmp_path, redis_url)
    state, redis = open_state(redis_url), Redis.from_url(redis_url)
    studio, express = await _requests(settings)
    for request in (studio, express):
        await _legacy_enqueue(settings, state, request)
    await redis.zadd(LEGACY_QUEUE, {"cron:sweep_retention:1": 1})  # an old worker's cron run
    await redis.set(arq_in_progress_key(studio.job_id), b"1", px=60_000)  # an old worker runs it
    assert await move_legacy_jobs(redis) == [express.job_id]
    assert await redis.zrange(LEGACY_QUEUE, 0, -1) == [studio.job_id.encode()]
    assert await queued_job_ids(redis, Tier.EXPRESS) == [express.job_id]
    await redis.delete(arq_in_progress_key(studio.job_id))  # it died, or ended and was re-queued
    assert await move_legacy_jobs(redis) == [studio.job_id]
    assert await redis.zcard(LEGACY_QUEUE) == 0
    assert await queued_job_ids(redis, Tier.STUDIO) == [studio.job_id]
    await redis.aclose()
    await state.close()


async def test_metrics_are_per_tier(tmp_path: Path, redis_url: str) -> None:
    settings = _settings(tmp_path, redis_url)
    state, arq = open_state(redis_url), await create_arq_pool(settings)
    studio, _ = await _requests(settings)
    await enqueue_pack(arq, state, studio)
    await beat(arq, [Tier.EXPRESS], "express-host")
    await asyncio.sleep(0.3)
    await metrics.refresh(arq)

    def sample(name: str, tier: Tier) -> float | None:
        return REGISTRY.get_sample_value(name, {"tier": str(tier)})

    assert sample("headshots_queue_length", Tier.STUDIO) == 1
    assert sample("headshots_queue_length", Tier.EXPRESS) == 0
    assert sample("headshots_workers_live", Tier.EXPRESS) == 1
    assert sample("headshots_workers_live", Tier.STUDIO) == 0
    waited = sample("headshots_queue_oldest_wait_seconds", Tier.STUDIO)
    assert waited is not None and 0.3 <= waited < 30
    assert sample("headshots_queue_oldest_wait_seconds", Tier.EXPRESS) == 0
    assert await oldest_wait_s(arq, Tier.STUDIO) >= waited
    assert await arq.zcard(queue_name(Tier.STUDIO)) == 1
    await arq.aclose()
    await state.close()


async def test_the_confirmation_says_the_tier_has_no_worker_while_the_other_has(
    tmp_path: Path, redis_url: str, telegram: FakeTelegram
) -> None:
    from tests import photos
    from tests.ops_harness import is_pack, order_pack

    settings = telegram_settings(tmp_path, redis_url, telegram, express_studio=EXPRESS_STANDIN)
    note = t(messages.NO_TIER_WORKER["studio"])
    selfies = [
        photos.to_bytes(photos.astronaut()),
        photos.to_bytes(ImageOps.mirror(photos.astronaut())),
    ]
    with worker_process(settings, tmp_path, "--tiers", "express"):
        async with running_bot(settings):
            await order_pack(telegram, 77, selfies, tier="studio")
            await telegram.wait_for(lambda sent: sent.chat_id == 77 and sent.text == note)
        with worker_process(settings, tmp_path, "--tiers", "studio"):
            async with running_bot(settings):
                await telegram.wait_for(is_pack, timeout_s=60)
    assert [sent.text for sent in telegram.sent].count(note) == 1
