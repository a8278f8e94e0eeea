"""Retention: nothing is kept longer than the privacy notice promises.

After a pack ends, its selfies and everything that could rebuild the face (crops, LoRA,
candidates) go after a short grace period; the delivered results go after some days. Selfies of
conversations that were abandoned (their session expired, no pack running) go too. The sweeper
runs as a cron job in the worker and as `headshots sweep`; it logs counts, never names.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from core.settings import Settings
from engine.jobs import JobRecord, PackRequest, forget_job, keys
from engine.jobs.keys import (
    RESULTS_FOLDER,
    RESULTS_MANIFEST,
    active_key,
    job_prefix,
    person_jobs_key,
)
from engine.jobs.records import all_records
from storage.blobs import BlobStore
from storage.state import StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of data lives, in seconds."""

    private_after_end_s: float  # selfies, crops, LoRA, candidates, after the pack ended
    results_s: float  # delivered headshots
    abandoned_s: float  # a conversation nobody touched

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        """Read the retention settings the privacy notice quotes."""
        return cls(
            settings.selfies_retention_hours * 3600,
            settings.results_retention_days * 86400,
            settings.abandoned_session_hours * 3600,
        )


@dataclass
class SweepCounts:
    """What one sweep deleted."""

    private_blobs: int = 0
    result_blobs: int = 0
    records: int = 0
    sessions: int = 0
    abandoned_blobs: int = 0


async def sweep(
    state: StateStore,
    blobs: BlobStore,
    redis: Redis,
    policy: RetentionPolicy,
    now: float | None = None,
) -> SweepCounts:
    """Delete what has outlived its promise; return the counts."""
    now = time.time() if now is None else now
    counts = SweepCounts()
    for record in await all_records(state):
        if record.status.terminal:
            stores = _Stores(state, blobs, redis)
            private, results, records = await _sweep_job(stores, record, policy, now)
            counts.private_blobs += private
            counts.result_blobs += results
            counts.records += records
    counts.sessions = await _sweep_sessions(state, policy, now)
    counts.abandoned_blobs = await _sweep_abandoned(state, blobs)
    log.info("retention sweep: %s", counts)
    return counts


@dataclass(frozen=True)
class _Stores:
    state: StateStore
    blobs: BlobStore
    redis: Redis


async def _sweep_job(
    stores: _Stores, record: JobRecord, policy: RetentionPolicy, now: float
) -> tuple[int, int, int]:
    """Return how many private blobs, result blobs and records of one ended job went."""
    state, blobs = stores.state, stores.blobs
    request = record.request
    age_s = now - (record.finished_at or now)
    prefix = job_prefix(request.user_scope, request.job_id)
    results = records = private = 0
    if age_s >= policy.private_after_end_s:
        private = await _delete_private(blobs, request, prefix)
    if age_s >= policy.results_s:
        results = await blobs.delete_prefix(prefix)
        await forget_job(stores.redis, state, request.job_id)
        await state.index_remove(person_jobs_key(request.user_scope), request.job_id)
        await state.delete(keys.message_key(request.user_scope, request.job_id))
        records = 1
    return private, results, records


async def _delete_private(blobs: BlobStore, request: PackRequest, prefix: str) -> int:
    keep = (f"{prefix}{RESULTS_FOLDER}/", prefix + RESULTS_MANIFEST)
    job_keys = [key for key in await blobs.list_keys(prefix) if not key.startswith(keep)]
    deleted = [await blobs.delete(key) for key in (*request.selfie_keys, *job_keys)]
    return sum(deleted)


async def _sweep_sessions(state: StateStore, policy: RetentionPolicy, now: float) -> int:
    """Delete conversations idle past the abandoned time, their menus and past days' quotas."""
    today = keys.utc_day(now)
    swept = 0
    for key in await state.keys(""):
        scope, kind = keys.split_person_key(key)
        day = keys.quota_day(key)
        if day is not None and day < today:
            await state.delete(key)
        elif kind == keys.SESSION_KIND and await _idle(state, key, scope, now - policy.abandoned_s):
            menus = await state.keys(keys.menus_prefix(scope))
            swept += await state.delete(key, *menus) > 0
    return swept


async def _idle(state: StateStore, key: str, scope: str, cutoff: float) -> bool:
    # A session without a time stamp is left to its Redis expiry, which runs out after the same
    # abandoned-session time; the sweep only speeds that up when it knows the last activity.
    session = await state.get(key)
    last = float(session.get("updated_at") or cutoff) if session else cutoff
    return last < cutoff and await state.get(active_key(scope)) is None


async def _sweep_abandoned(state: StateStore, blobs: BlobStore) -> int:
    # A session key expires after the abandoned-session time; selfies it leaves behind, with no
    # pack of that person running, belong to nobody's conversation any more.
    scopes = {
        key.split("/", 1)[0]
        for key in await blobs.list_keys("")
        if key.startswith(keys.selfies_prefix(key.split("/", 1)[0]))
    }
    deleted = 0
    for scope in sorted(scopes):
        if (
            await state.get(keys.session_key(scope)) is None
            and await state.get(active_key(scope)) is None
        ):
            deleted += await blobs.delete_prefix(keys.selfies_prefix(scope))
    return deleted


def _scope(blob_key: str) -> str:
    return blob_key.split("/", 1)[0]
