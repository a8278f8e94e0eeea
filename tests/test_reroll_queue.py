"""Re-rolls on the real queue: ahead of packs queued earlier, rendered from the stored identity."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from core.settings import Settings
from engine.jobs import FailureCode, JobStatus, PackRequest, create_arq_pool, enqueue_pack
from engine.jobs.contract import Reroll
from engine.jobs.keys import job_prefix
from engine.jobs.queue import queued_job_ids
from engine.jobs.records import load_record, open_state
from engine.jobs.stream import latest_event
from storage.blobs import BlobStore
from storage.blobs_open import open_blob_store
from storage.state_redis import RedisStateStore
from tests.queue_harness import eventually, queue_settings, stored_request, studio_calls
from tests.queue_harness import worker_process as worker


class Rig:
    def __init__(self, settings: Settings, state: RedisStateStore, blobs: BlobStore) -> None:
        self.settings, self.state, self.blobs = settings, state, blobs

    async def enqueue(self, request: PackRequest) -> str:
        arq = await create_arq_pool(self.settings)
        try:
            return (await enqueue_pack(arq, self.state, request)).job_id
        finally:
            await arq.aclose()

    async def ended(self, job_id: str) -> bool:
        record = await load_record(self.state, job_id)
        return record is not None and record.status.terminal

    async def status(self, job_id: str) -> JobStatus:
        record = await load_record(self.state, job_id)
        assert record is not None
        return record.status


@pytest.fixture
async def rig(tmp_path: Path, redis_url: str) -> AsyncIterator[Rig]:
    settings = queue_settings(tmp_path, redis_url)
    state = open_state(redis_url)
    yield Rig(settings, state, open_blob_store(settings))
    await state.close()


def _reroll_of(pack: PackRequest, job_id: str, request_id: str, image_key: str = "") -> PackRequest:
    reroll = Reroll(job_id, job_id, image_key)
    return replace(pack, style_ids=("office",), pack_size=2, request_id=request_id, reroll=reroll)


async def test_a_waiting_reroll_runs_before_a_pack_queued_earlier(rig: Rig, tmp_path: Path) -> None:
    mine = await stored_request(rig.blobs, "mine", user="2", styles=("office",), pack_size=2)
    with worker(rig.settings, tmp_path):
        delivered = await rig.enqueue(mine)
        await eventually(lambda: rig.ended(delivered), "the first pack")
    calls_before = len(studio_calls(rig.settings))
    # No worker runs now: a stranger's new pack is queued first, then my re-roll.
    theirs = await rig.enqueue(await stored_request(rig.blobs, "theirs", user="3"))
    reroll = await rig.enqueue(_reroll_of(mine, delivered, "again"))
    redis = Redis.from_url(rig.settings.redis_url)
    try:
        assert await queued_job_ids(redis) == [reroll, theirs]
        with worker(rig.settings, tmp_path):
            await eventually(lambda: rig.ended(theirs), "the stranger's pack")
        done = await latest_event(redis, reroll)
    finally:
        await redis.aclose()
    assert await rig.status(reroll) is JobStatus.DONE
    assert done is not None and done.kind == "done"
    # The re-roll rendered from the stored identity (no preprocess, no training), then the pack.
    after = studio_calls(rig.settings)[calls_before:]
    assert after == ["generate", "select", "preprocess", "personalize", "generate", "select"]


async def test_more_like_this_renders_variations_near_the_chosen_seed(
    rig: Rig, tmp_path: Path
) -> None:
    mine = await stored_request(rig.blobs, "mine", user="2", styles=("office",), pack_size=2)
    with worker(rig.settings, tmp_path):
        pack = await rig.enqueue(mine)
        await eventually(lambda: rig.ended(pack), "the pack")
        prefix = job_prefix(mine.user_scope, pack)
        chosen = f"{prefix}results/office/001.png"
        more = await rig.enqueue(_reroll_of(mine, pack, "more", chosen))
        await eventually(lambda: rig.ended(more), "the variations")
    assert await rig.status(more) is JobStatus.DONE
    made = json.loads(await rig.blobs.get(job_prefix(mine.user_scope, more) + "selected.json"))
    seeds = [item["seed"] for item in made["items"]]
    original = json.loads(await rig.blobs.get(prefix + "selected.json"))
    [chosen_seed] = [item["seed"] for item in original["items"] if item["key"] == chosen]
    assert len(seeds) == 2
    assert all(0 < seed - chosen_seed <= 3 for seed in seeds), (seeds, chosen_seed)


async def test_a_reroll_after_the_identity_was_deleted_fails_politely(
    rig: Rig, tmp_path: Path
) -> None:
    mine = await stored_request(rig.blobs, "mine", user="2", styles=("office",), pack_size=2)
    with worker(rig.settings, tmp_path):
        pack = await rig.enqueue(mine)
        await eventually(lambda: rig.ended(pack), "the pack")
        await rig.blobs.delete_prefix(job_prefix(mine.user_scope, pack) + "identity")
        late = await rig.enqueue(_reroll_of(mine, pack, "late"))
        await eventually(lambda: rig.ended(late), "the late re-roll")
    record = await load_record(rig.state, late)
    assert record is not None and record.status is JobStatus.FAILED
    redis = Redis.from_url(rig.settings.redis_url)
    try:
        failed = await latest_event(redis, late)
    finally:
        await redis.aclose()
    assert failed is not None and getattr(failed, "code", "") == str(FailureCode.EXPIRED)
