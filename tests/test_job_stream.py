"""The job stream on a real Redis: a finished job's latest state never goes back."""

from __future__ import annotations

import json

from redis.asyncio import Redis

from engine.jobs import Done, Failed, FailureCode, Queued, Training, latest_event, publish_event
from engine.jobs.keys import stream_key


async def _published(redis_url: str, *events: Queued | Training | Failed | Done) -> list[str]:
    redis = Redis.from_url(redis_url)
    try:
        for event in events:
            await publish_event(redis, event, 600)
        latest = await latest_event(redis, "job")
        entries = await redis.xrange(stream_key("job"))
        kinds = [json.loads(body[b"e"])["kind"] for _, body in entries]
    finally:
        await redis.aclose()
    return [type(latest).__name__, *kinds]


async def test_a_late_queued_after_a_failure_is_refused(redis_url: str) -> None:
    failed = Failed(job_id="job", code=str(FailureCode.EXPIRED))
    seen = await _published(redis_url, failed, Queued(job_id="job", position=1, eta_s=9.0))
    assert seen == ["Failed", "failed"]


async def test_progress_moves_on_and_a_repeated_end_still_goes_through(redis_url: str) -> None:
    done = Done(job_id="job", results=())
    steps = (Queued(job_id="job", position=1), Training(job_id="job", step=1, total=2), done, done)
    seen = await _published(redis_url, *steps)
    assert seen == ["Done", "queued", "training", "done", "done"]
