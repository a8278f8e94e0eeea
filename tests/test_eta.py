"""A pack's time left learns from the pack itself, and a host's first pack says it is a guess."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.text.progress import progress_text
from core.settings import Settings
from engine.jobs import (
    Generating,
    PackRequest,
    Preparing,
    Queued,
    Selecting,
    Tier,
    Training,
    create_arq_pool,
    enqueue_pack,
    eta,
    event_from_json,
    event_to_json,
)
from engine.jobs.keys import record_key, stream_key
from engine.jobs.records import open_state
from storage.blobs_open import open_blob_store
from storage.state_redis import RedisStateStore
from tests.queue_harness import eventually, queue_settings, stored_request, worker_process

GUESS = eta.Typical(Tier.STUDIO, dict(eta.DEFAULT_S))
EtaEvent = Queued | Preparing | Training | Generating | Selecting


def test_at_full_training_on_a_fast_host_the_rest_is_scaled_to_its_pace() -> None:
    clock = eta.PackClock(GUESS, images=12)
    clock.finished("preprocess", 0.4)
    # The bug: 100% training, 10 s to go, and the guesses said 260 s ("about 4 min left").
    left = clock.left_s("personalize", done=20, total=20, spent_s=8.0)
    pace = 8.4 / (eta.DEFAULT_S["preprocess"] + eta.DEFAULT_S["personalize"])
    assert left == pytest.approx((eta.DEFAULT_S["generate"] + eta.DEFAULT_S["select"]) * pace)
    assert left < 5.0
    clock.finished("personalize", 8.0)
    assert clock.left_s("generate") == pytest.approx(left)  # nothing rendered yet: the same
    assert clock.total_s() == pytest.approx(8.4 + left)


def test_before_any_progress_the_guesses_stand() -> None:
    clock = eta.PackClock(GUESS, images=12)
    assert clock.first_estimate
    assert clock.total_s() == sum(eta.DEFAULT_S.values())
    assert clock.left_s("preprocess", spent_s=5.0) == sum(eta.DEFAULT_S.values()) - 5.0


def test_measured_stages_keep_their_medians_and_generate_counts_images() -> None:
    measured = eta.Typical(
        Tier.STUDIO,
        {"preprocess": 10.0, "personalize": 300.0, "generate": 90.0, "select": 6.0},
        frozenset(eta.STAGES),
        per_image_s=2.0,
    )
    clock = eta.PackClock(measured, images=30)
    clock.finished("preprocess", 1.0)  # much faster than usual: the medians still stand
    assert not clock.first_estimate
    assert clock.left_s("personalize") == 300.0 + 2.0 * 30 + 6.0
    halfway = clock.left_s("generate", done=15, total=30, spent_s=45.0)
    assert halfway == 45.0 + 6.0  # its own rate: 3 s an image, not the median 2 s


def test_a_first_estimate_says_so_and_the_event_carries_it() -> None:
    event = Training(job_id="j", step=20, total=20, eta_s=30.0, first_estimate=True)
    assert event_from_json(event_to_json(event)) == event
    assert progress_text(event).endswith("less than a minute left (a first estimate)")
    later = Generating(job_id="j", done=3, total=12, eta_s=600.0)
    assert progress_text(later).endswith("about 10 min left")
    older = event_from_json('{"kind":"queued","job_id":"j","position":1}')  # before the field
    assert isinstance(older, Queued) and not older.first_estimate


async def test_a_fresh_hosts_first_pack_learns_and_its_second_is_measured(
    tmp_path: Path, redis_url: str
) -> None:
    settings = queue_settings(tmp_path, redis_url)
    redis, state = Redis.from_url(redis_url), open_state(redis_url)
    blobs = open_blob_store(settings)
    try:
        with worker_process(settings, tmp_path, STANDIN_STEP_S="0.05"):
            first = await _run(settings, state, await stored_request(blobs, "r1"))
            first_events = await _eta_events(redis, first)
            typical = await eta.typical(redis, Tier.STUDIO)
            second = await _run(settings, state, await stored_request(blobs, "r2", user="43"))
            second_events = await _eta_events(redis, second)
    finally:
        await state.close()
        await redis.aclose()
    assert all(event.first_estimate for event in first_events), first_events
    trained = [e for e in first_events if isinstance(e, Training) and e.step == e.total]
    # Under a second of work was left (12 tiny renders); the guesses alone said 260 s.
    assert trained and trained[-1].eta_s is not None and trained[-1].eta_s < 30, trained
    assert typical.measured == frozenset(eta.STAGES)
    assert typical.per_image_s is not None and typical.per_image_s < 1.0
    assert second_events and not any(event.first_estimate for event in second_events)
    queued = next(e for e in second_events if isinstance(e, Queued))
    assert queued.eta_s is not None and queued.eta_s < 60  # the measured pack, not the guesses


async def _run(settings: Settings, state: RedisStateStore, request: PackRequest) -> str:
    arq = await create_arq_pool(settings)
    try:
        job_id = (await enqueue_pack(arq, state, request)).job_id
    finally:
        await arq.aclose()

    async def done() -> bool:
        record = await state.get(record_key(job_id))
        return record is not None and record["status"] == "done"

    await eventually(done, f"pack {job_id} done")
    return job_id


async def _eta_events(redis: Redis, job_id: str) -> list[EtaEvent]:
    """Return the job's events that carry an estimate."""
    entries = await redis.xrange(stream_key(job_id))
    events = [event_from_json(fields[b"e"]) for _, fields in entries]
    return [event for event in events if isinstance(event, EtaEvent)]
