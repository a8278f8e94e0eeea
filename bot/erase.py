"""Erase everything of one person at once: /delete in the chat, `headshots delete-user`."""

from __future__ import annotations

from dataclasses import dataclass

from arq.constants import job_key_prefix, result_key_prefix
from redis.asyncio import Redis

from bot.pack_queue import PackQueue, jobs_index
from engine.jobs import (
    LIVE_STREAMS,
    active_key,
    cancel_key,
    latest_key,
    lease_key,
    record_key,
    stream_key,
)
from storage.blobs import BlobStore
from storage.state import StateStore


@dataclass(frozen=True)
class Erased:
    """What was erased, for the person's confirmation and the operator's log."""

    blobs: int
    records: int
    jobs: int
    stopped_job: bool

    def describe(self) -> str:
        """Return a sentence for the person."""
        stopped = " and stopped the pack being made" if self.stopped_job else ""
        return (
            f"Done: I erased {self.blobs} stored file(s) (selfies, face model, results), "
            f"{self.records} record(s) and the history of {self.jobs} pack(s){stopped}. "
            "Nothing of you is left here. /start begins again."
        )


async def erase_person(
    scope: str, state: StateStore, redis: Redis, blobs: BlobStore, queue: PackQueue
) -> Erased:
    """Stop the person's running pack, then delete their blobs, state, streams and job records."""
    active = await queue.active_job(scope)
    stopped = active is not None and await queue.cancel(active)
    jobs = sorted(await state.index_members(jobs_index(scope)) | ({active} if active else set()))
    blob_count = await blobs.delete_prefix(f"{scope}/")
    own_keys = await state.keys(f"{scope}:")
    job_keys = [key for job in jobs for key in (record_key(job), cancel_key(job))]
    records = await state.delete(*own_keys, *job_keys, active_key(scope))
    for job in jobs:
        await _forget_job(redis, job)
    return Erased(blob_count, records, len(jobs), stopped)


async def _forget_job(redis: Redis, job_id: str) -> None:
    # The notifier's delivery markers and arq's job and result keys carry the job id (and arq's
    # result holds the request, with the person's ids): none may outlive the erasure.
    markers = [key async for key in redis.scan_iter(match=f"hs:delivery:{job_id}:*", count=500)]
    await redis.delete(
        stream_key(job_id), latest_key(job_id), lease_key(job_id), f"hs:notify:shown:{job_id}",
        job_key_prefix + job_id, result_key_prefix + job_id, *markers,
    )  # fmt: skip
    await redis.srem(LIVE_STREAMS, stream_key(job_id))  # type: ignore[misc]
