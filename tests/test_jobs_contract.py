"""engine.jobs on a real Redis: payloads and events as JSON, enqueue once, cancel, active job."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from arq.constants import job_key_prefix
from redis.asyncio import Redis

from engine.jobs import (
    Cancelled,
    Delivering,
    Done,
    Enqueued,
    Failed,
    Generating,
    JobRecord,
    JobStatus,
    PackAlreadyActiveError,
    PackRequest,
    Preparing,
    Queued,
    Selecting,
    StyleResult,
    Training,
    active_job,
    cancel_pack,
    create_arq_pool,
    enqueue_pack,
    eta,
    event_from_json,
    event_to_json,
    records,
)
from engine.jobs.keys import queue_name, record_key
from engine.jobs.quality import GroupQuality, PackQuality
from engine.jobs.queue import dumps, loads
from engine.jobs.records import open_state
from storage.blobs_open import open_blob_store
from tests.queue_harness import queue_settings, stored_request, stream_kinds

EVENTS = [
    Queued(job_id="j", position=2, eta_s=30.0),
    Preparing(job_id="j", eta_s=None),
    Training(job_id="j", step=3, total=10, eta_s=12.5),
    Generating(job_id="j", done=1, total=6),
    Selecting(job_id="j"),
    Delivering(job_id="j"),
    Done(job_id="j", results=(StyleResult("office", ("a/1.png", "a/2.png")),)),
    Failed(job_id="j", code="timeout"),
    Cancelled(job_id="j"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.kind)
def test_every_event_survives_json(event: object) -> None:
    assert event_from_json(event_to_json(event)) == event  # type: ignore[arg-type]


def test_unknown_event_is_refused() -> None:
    with pytest.raises(ValueError, match="not a progress event"):
        event_from_json('{"kind": "exploded", "job_id": "j"}')


def _request() -> PackRequest:
    return PackRequest(
        platform="telegram",
        chat_id="1",
        user_id="2",
        user_scope="telegram-abc",
        selfie_keys=("k1", "k2"),
        subject="woman",
        style_ids=("office",),
        pack_size=4,
        seed=3,
        request_id="req",
    )


def test_request_round_trips_and_derives_a_stable_job_id() -> None:
    request = _request()
    again = PackRequest.from_json(loads(dumps(request.to_json())))
    assert again == request
    assert again.job_id == request.job_id
    assert PackRequest.from_json({**request.to_json(), "added_later": 1}) == request
    other = PackRequest.from_json({**request.to_json(), "request_id": "req2"})
    assert other.job_id != request.job_id


async def test_a_done_record_keeps_the_pack_quality_typed(redis_url: str) -> None:
    group = GroupQuality("office", 6, 5, 4, 0.8333, 0.31, 0.52, 1)
    quality = PackQuality(replace(group, name="overall"), (group,), (0.31, 0.07, 0.52))
    state = open_state(redis_url)
    request = replace(_request(), request_id="quality")
    try:
        await records.create_record(state, request, ttl_s=60)
        await records.finish_record(state, request.job_id, JobStatus.DONE, quality=quality)
        record = await records.load_record(state, request.job_id)
    finally:
        await state.close()
    assert record is not None and record.status is JobStatus.DONE
    assert record.quality == quality
    assert JobRecord.from_json(loads(dumps(record.to_json()))) == record
    # A record written before quality was measured reads as "nothing recorded", not zeros.
    older = {k: v for k, v in record.to_json().items() if k != "quality"}
    assert JobRecord.from_json(older).quality is None


def test_request_refuses_an_unknown_subject() -> None:
    with pytest.raises(ValueError, match="subject"):
        PackRequest("telegram", "1", "2", "s", ("k",), "robot", ("office",), 1, 0, "r")


def test_arq_payload_is_json_not_pickle() -> None:
    data = dumps({"a": [{"x": 1}], "r": ValueError("boom")})
    assert data.startswith(b"{")
    assert loads(data)["r"] == "ValueError('boom')"


async def test_double_enqueue_makes_one_job(tmp_path: Path, redis_url: str) -> None:
    settings = queue_settings(tmp_path, redis_url)
    arq, state, blobs = (
        await create_arq_pool(settings),
        open_state(redis_url),
        open_blob_store(settings),
    )
    try:
        request = await stored_request(blobs)
        first = await enqueue_pack(arq, state, request)
        second = await enqueue_pack(arq, state, request)
        assert first == Enqueued(request.job_id, True, 1)
        assert second == Enqueued(request.job_id, False, 1)
        assert await arq.zcard(queue_name("studio")) == 1
        assert await stream_kinds(arq, request.job_id) == ["queued"]
        assert await active_job(state, request.user_scope) == request.job_id
    finally:
        await arq.aclose()
        await state.close()


async def test_an_enqueue_that_stopped_half_way_is_completed_by_the_retry(
    tmp_path: Path, redis_url: str
) -> None:
    settings = queue_settings(tmp_path, redis_url)
    arq, state, blobs = (
        await create_arq_pool(settings),
        open_state(redis_url),
        open_blob_store(settings),
    )
    try:
        request = await stored_request(blobs)
        # What a bot killed between writing the record and reaching arq leaves behind.
        record = {"job_id": request.job_id, "request": request.to_json(), "status": "queued"}
        await state.put(record_key(request.job_id), record)
        again = await enqueue_pack(arq, state, request)
        assert again == Enqueued(request.job_id, False, 1)
        assert await arq.zcard(queue_name("studio")) == 1
        assert await active_job(state, request.user_scope) == request.job_id
    finally:
        await arq.aclose()
        await state.close()


async def test_a_second_pack_waits_for_the_first(tmp_path: Path, redis_url: str) -> None:
    settings = queue_settings(tmp_path, redis_url)
    arq, state, blobs = (
        await create_arq_pool(settings),
        open_state(redis_url),
        open_blob_store(settings),
    )
    try:
        first = await enqueue_pack(arq, state, await stored_request(blobs, "r1"))
        with pytest.raises(PackAlreadyActiveError) as raised:
            await enqueue_pack(arq, state, await stored_request(blobs, "r2"))
        assert raised.value.job_id == first.job_id
        other_person = await enqueue_pack(arq, state, await stored_request(blobs, "r1", user="77"))
        assert other_person.position == 2
    finally:
        await arq.aclose()
        await state.close()


async def test_cancel_of_a_queued_job_removes_it_and_says_so(
    tmp_path: Path, redis_url: str
) -> None:
    settings = queue_settings(tmp_path, redis_url)
    arq, state, blobs = (
        await create_arq_pool(settings),
        open_state(redis_url),
        open_blob_store(settings),
    )
    try:
        request = await stored_request(blobs)
        job = await enqueue_pack(arq, state, request)
        assert await cancel_pack(arq, state, job.job_id)
        assert await arq.zcard(queue_name("studio")) == 0
        assert not await arq.exists(job_key_prefix + job.job_id)
        assert await stream_kinds(arq, job.job_id) == ["queued", "cancelled"]
        assert await active_job(state, request.user_scope) is None
        assert not await cancel_pack(arq, state, job.job_id)  # already over
        assert (await enqueue_pack(arq, state, await stored_request(blobs, "r2"))).created
    finally:
        await arq.aclose()
        await state.close()


async def test_eta_comes_from_measured_stage_durations(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        assert await eta.typical_s(redis) == eta.DEFAULT_S
        for seconds in (10.0, 30.0, 20.0):
            await eta.record_s(redis, "personalize", seconds)
        typical = await eta.typical_s(redis)
        assert typical["personalize"] == 20.0
        total = sum(typical.values())
        assert eta.queue_eta_s(typical, 1) == total
        assert eta.queue_eta_s(typical, 3) == 2.5 * total
        clock = eta.PackClock(await eta.typical(redis), images=10)
        half_trained = clock.left_s("personalize", 5, 10, spent_s=8.0)
        # The unmeasured stages run at this pack's pace: 16 s projected where 900 s was guessed.
        later = (typical["generate"] + typical["select"]) * 16.0 / eta.DEFAULT_S["personalize"]
        assert half_trained == pytest.approx(8.0 + later)
    finally:
        await redis.aclose()
