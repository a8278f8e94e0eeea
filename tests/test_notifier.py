"""The notifier on a real Redis: coalesced edits, endings exactly once, replicas, retries, texts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.chat.events import Progress, Reply, SendAlbum, SendPhoto
from bot.text.progress import CANCELLED_REPLY, FAILURE_REPLIES, progress_text, split_albums
from core.settings import Settings
from engine.jobs import (
    Cancelled,
    Done,
    Failed,
    FailureCode,
    JobEvent,
    PackRequest,
    Queued,
    StyleResult,
    Training,
    publish_event,
)
from engine.jobs.keys import record_key
from engine.jobs.records import open_state
from engine.jobs.stream import open_stream
from storage.blobs import BlobStore
from storage.blobs_open import open_blob_store
from storage.state_redis import RedisStateStore
from tests.queue_harness import (
    RecordingSink,
    eventually,
    queue_settings,
    running_notifier,
    stored_request,
    tiny_png,
)
from tests.servers import restartable_redis


@dataclass
class Desk:
    settings: Settings
    redis: Redis
    state: RedisStateStore
    blobs: BlobStore
    request: PackRequest

    @property
    def job_id(self) -> str:
        return self.request.job_id

    async def publish(self, event: JobEvent) -> None:
        await publish_event(self.redis, event, 600)

    async def results(self, style: str, count: int) -> StyleResult:
        keys = []
        for index in range(count):
            key = f"{self.request.user_scope}/jobs/{self.job_id}/results/{style}/{index:03d}.png"
            await self.blobs.put(key, tiny_png(index))
            keys.append(key)
        return StyleResult(style, tuple(keys))

    async def close(self) -> None:
        await self.state.close()
        await self.redis.aclose()


async def _open_desk(tmp_path: Path, redis_url: str) -> Desk:
    """Store a running job's request and record and open its stream: what a worker leaves."""
    settings = queue_settings(tmp_path, redis_url, notifier_claim_idle_s=0.5)
    redis, state = Redis.from_url(redis_url), open_state(redis_url)
    blobs = open_blob_store(settings)
    request = await stored_request(blobs)
    record = {"job_id": request.job_id, "request": request.to_json(), "status": "running"}
    await state.put(record_key(request.job_id), record)
    await open_stream(redis, request.job_id, 600)
    return Desk(settings, redis, state, blobs, request)


@pytest.fixture
async def desk(tmp_path: Path, redis_url: str) -> AsyncIterator[Desk]:
    opened = await _open_desk(tmp_path, redis_url)
    yield opened
    await opened.close()


def _count(sink: RecordingSink, kind: type) -> int:
    return len(sink.of(kind))


async def test_a_burst_of_steps_becomes_a_few_edits_ending_on_the_newest(desk: Desk) -> None:
    sink = RecordingSink()
    settings = desk.settings.model_copy(update={"notifier_edit_interval_s": 2.0})
    async with running_notifier(settings, desk.state, desk.blobs, sink):
        for step in range(1, 31):
            await desk.publish(Training(job_id=desk.job_id, step=step, total=30, eta_s=60.0))

        async def newest_shown() -> bool:
            return any("step 30/30" in text for text in sink.progress_texts())

        await eventually(newest_shown, "the newest step")
    assert len(sink.progress_texts()) <= 3  # the first at once, the rest coalesced per interval
    assert all(isinstance(effect, Progress) for _, effect, _ in sink.got)
    assert {effect.key for effect in sink.of(Progress)} == {desk.job_id}


async def test_identical_text_is_never_edited_twice(desk: Desk) -> None:
    sink = RecordingSink()
    event = Training(job_id=desk.job_id, step=5, total=10, eta_s=90.0)
    async with running_notifier(desk.settings, desk.state, desk.blobs, sink):
        await desk.publish(event)
        await eventually(lambda: _shown(sink, 1), "the first edit")
        await desk.publish(event)
        await desk.publish(Training(job_id=desk.job_id, step=6, total=10, eta_s=80.0))
        await eventually(lambda: _shown(sink, 2), "the next edit")
    assert sink.progress_texts() == [
        progress_text(event),
        progress_text(Training(job_id="x", step=6, total=10, eta_s=80.0)),
    ]


async def test_two_replicas_and_a_duplicate_done_deliver_the_pack_once(desk: Desk) -> None:
    sink = RecordingSink()
    done = Done(
        job_id=desk.job_id,
        results=(await desk.results("office", 12), await desk.results("outdoor", 1)),
    )
    await desk.publish(done)
    await desk.publish(done)  # a re-run after a crash publishes its end again
    async with (
        running_notifier(desk.settings, desk.state, desk.blobs, sink, "bot-a"),
        running_notifier(desk.settings, desk.state, desk.blobs, sink, "bot-b"),
    ):
        await eventually(lambda: _acked(desk), "both events to be handled")
    albums = sink.of(SendAlbum)
    assert [len(a.images) for a in albums] == [6, 6]
    assert [a.caption for a in albums] == ["Office: 6 headshots (1/2)", "Office: 6 headshots (2/2)"]
    assert [p.caption for p in sink.of(SendPhoto)] == ["Outdoor: 1 headshot"]
    assert sink.progress_texts() == ["Your headshots are ready! ✅"]


async def test_a_failed_upload_is_retried_and_still_delivered_once(desk: Desk) -> None:
    sink = RecordingSink(fail_next=2)  # the "ready" edit and then the album fail once each
    await desk.publish(Done(job_id=desk.job_id, results=(await desk.results("office", 3),)))
    async with running_notifier(desk.settings, desk.state, desk.blobs, sink):
        await eventually(lambda: _acked(desk), "the retried delivery", timeout_s=20)
    assert _count(sink, SendAlbum) == 1
    assert sink.progress_texts() == ["Your headshots are ready! ✅"]


@pytest.mark.parametrize(
    ("ending", "reply"),
    [
        (Failed(job_id="-", code="no_face"), FAILURE_REPLIES[FailureCode.NO_FACE]),
        (Failed(job_id="-", code="from-a-newer-worker"), FAILURE_REPLIES[FailureCode.ERROR]),
        (Cancelled(job_id="-"), CANCELLED_REPLY),
    ],
    ids=["failed", "failed-unknown-code", "cancelled"],
)
async def test_an_ending_without_images_is_told_once(
    desk: Desk, ending: JobEvent, reply: str
) -> None:
    sink = RecordingSink()
    event = type(ending)(**{**ending.__dict__, "job_id": desk.job_id})
    await desk.publish(Training(job_id=desk.job_id, step=1, total=10))
    await desk.publish(event)
    async with running_notifier(desk.settings, desk.state, desk.blobs, sink):
        await eventually(lambda: _acked(desk), "the ending")
    assert [e for _, e, _ in sink.got if isinstance(e, Reply)] == [Reply(reply)]
    assert len(sink.progress_texts()) == 1  # the training step was coalesced away


def test_queue_position_and_eta_are_shown() -> None:
    text = progress_text(Queued(job_id="j", position=3, eta_s=600))
    assert "position 3 (2 ahead of you)" in text and "about 10 min left" in text
    assert "you're next" in progress_text(Queued(job_id="j", position=1, eta_s=30))
    assert "less than a minute left" in progress_text(Queued(job_id="j", position=1, eta_s=30))
    assert "25%" in progress_text(Training(job_id="j", step=5, total=20, eta_s=7200))


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(1, [1]), (2, [2]), (10, [10]), (11, [6, 5]), (21, [7, 7, 7]), (25, [9, 8, 8])],
)
def test_albums_hold_two_to_ten_and_never_leave_one_alone(count: int, sizes: list[int]) -> None:
    assert [len(chunk) for chunk in split_albums([str(i) for i in range(count)])] == sizes


async def _shown(sink: RecordingSink, count: int) -> bool:
    return len(sink.progress_texts()) >= count


async def _acked(desk: Desk) -> bool:
    """True once every event of the job was handled and acknowledged by the group."""
    stream = f"hs:events:job:{desk.job_id}"
    info = await desk.redis.xinfo_groups(stream)
    group = next(g for g in info if g["name"] in (b"notifier", "notifier"))
    return int(group["pending"]) == 0 and int(group["entries-read"] or 0) == await desk.redis.xlen(
        stream
    )


async def test_processes_serving_other_platforms_leave_the_job_alone(desk: Desk) -> None:
    telegram, discord = RecordingSink(), RecordingSink()
    await desk.publish(Training(job_id=desk.job_id, step=3, total=10, eta_s=60))
    await desk.publish(Done(job_id=desk.job_id, results=(await desk.results("office", 2),)))
    async with (
        running_notifier(desk.settings, desk.state, desk.blobs, discord, "d",
                         platforms=frozenset({"discord"})),
        running_notifier(desk.settings, desk.state, desk.blobs, telegram, "t",
                         platforms=frozenset({"telegram"})),
    ):  # fmt: skip

        async def delivered() -> bool:
            return bool(telegram.of(SendAlbum))

        await eventually(delivered, "the Telegram process to deliver")
    assert discord.got == []
    assert [len(a.images) for a in telegram.of(SendAlbum)] == [2]


async def test_a_notifier_started_while_redis_is_down_delivers_once_it_is_back(
    tmp_path: Path,
) -> None:
    with restartable_redis(tmp_path) as server:
        desk = await _open_desk(tmp_path, server.url)
        await desk.publish(Done(job_id=desk.job_id, results=(await desk.results("office", 2),)))
        server.stop()  # the bot starts while Redis restarts: joining the group fails at first
        sink = RecordingSink()
        async with running_notifier(desk.settings, desk.state, desk.blobs, sink):
            await asyncio.sleep(1.5)  # a join or two has failed by now
            await asyncio.to_thread(server.start)
            await eventually(lambda: _acked(desk), "the delivery after Redis came back", 30)
        assert _count(sink, SendAlbum) == 1
        await desk.close()
