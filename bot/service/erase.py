"""Erase everything of one person at once: /delete in the chat, `headshots delete-user`."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bot.service.pack_queue import PackQueue
from bot.text.i18n import N_, t
from engine.jobs import forget_job
from engine.jobs.keys import (
    active_key,
    arq_in_progress_key,
    person_blobs_prefix,
    person_jobs_key,
    person_prefix,
    record_key,
)
from storage.blobs import BlobStore
from storage.state import StateStore

ERASED = N_(
    "Done: I erased {files} stored file(s) (selfies, face model, results), {records} record(s)"
    " and the history of {jobs} pack(s). Nothing of you is left here. {cmd_start} begins again."
)
ERASED_AND_STOPPED = N_(
    "Done: I erased {files} stored file(s) (selfies, face model, results), {records} record(s)"
    " and the history of {jobs} pack(s), and stopped the pack being made. Nothing of you is"
    " left here. {cmd_start} begins again."
)


@dataclass(frozen=True)
class Erased:
    """What was erased, for the person's confirmation and the operator's log."""

    blobs: int
    records: int
    jobs: int
    stopped_job: bool

    def describe(self) -> str:
        """Return a sentence for the person."""
        template = ERASED_AND_STOPPED if self.stopped_job else ERASED
        return t(template, files=self.blobs, records=self.records, jobs=self.jobs)


async def erase_person(
    scope: str, state: StateStore, redis: Redis, blobs: BlobStore, queue: PackQueue
) -> Erased:
    """Stop the person's running pack, then delete their blobs, state, streams and job records."""
    active = await queue.active_job(scope)
    # Only a running job needs its cancel key kept (its worker must see it); a queued one is
    # taken off the queue, and the key would name the job for days after the erasure.
    running = active is not None and bool(await redis.exists(arq_in_progress_key(active)))
    stopped = active is not None and await queue.cancel(active, announce=False)
    # The active job is indexed too (enqueue_pack adds it first); the union covers old records.
    started = await state.index_members(person_jobs_key(scope))
    jobs = sorted(started | ({active} if active else set()))
    blob_count = await blobs.delete_prefix(person_blobs_prefix(scope))
    own_keys = await state.keys(person_prefix(scope))
    job_keys = [record_key(job) for job in jobs]
    records = await state.delete(*own_keys, *job_keys, active_key(scope))
    for job in jobs:
        await forget_job(redis, state, job, keep_cancel=running and job == active)
    return Erased(blob_count, records, len(jobs), stopped)
