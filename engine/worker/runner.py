"""The arq side of the GPU worker: the pack function, one arq Worker per tier, orphan recovery.

One process serves the tiers it loaded (engine.worker.host): each tier has its own arq queue and
Worker, and they share one job slot, so the GPU still runs one pack at a time.

arq has no heartbeat: a worker killed with SIGKILL (or by the OOM killer) leaves its job "in
progress" until arq's key expires, which is the longest function timeout plus 10 s, hours for a
pack. So each running job keeps a short lease, and every worker sweeps for jobs in progress
without a lease and hands them back to the queue; the stored stages make the re-run cheap.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable
from typing import Any, cast

from arq import ArqRedis, Worker, cron, func
from redis.asyncio import Redis

from core.errors import ConfigError
from core.settings import Settings
from engine.jobs import PACK_JOB, PackRequest, Queued, Tier, eta, publish_event
from engine.jobs.keys import arq_in_progress_key, lease_key, queue_name
from engine.jobs.queue import dumps, loads, queued_job_ids
from engine.jobs.retention import RetentionPolicy, sweep
from engine.jobs.workers import live_workers
from engine.studio.protocol import Studio
from engine.worker.pack_job import PackRun, WorkerResources
from engine.worker.reroll_job import RerollRun
from ops.logs import bind_job

log = logging.getLogger(__name__)

# Redis restarts (an upgrade, a failover) are waited out for this long before the worker gives up:
# every command of the worker retries through redis-py's policy (engine.jobs.redis_retry).
RIDE_OUT_S = 90
TIMEOUT_GRACE_S = 30  # our own deadline (pack_timeout_s) fires first and tells the person
ARQ_IN_PROGRESS_EXTRA_S = 10  # arq keeps a job "in progress" for its timeout plus this


def load_studio_factory(spec: str) -> Callable[[Settings], Studio]:
    """Return the callable that HEADSHOTS_STUDIO ("module:callable") names."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"HEADSHOTS_STUDIO must look like module:callable, not {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"HEADSHOTS_STUDIO {spec!r} cannot be loaded: {exc}") from exc
    return cast(Callable[[Settings], Studio], factory)


STUDIO_SETTINGS = {Tier.STUDIO: "HEADSHOTS_STUDIO", Tier.EXPRESS: "HEADSHOTS_EXPRESS_STUDIO"}


def configured_tiers(settings: Settings) -> frozenset[Tier]:
    """Return the tiers whose backend setting is not empty."""
    specs = {Tier.STUDIO: settings.studio, Tier.EXPRESS: settings.express_studio}
    return frozenset(tier for tier, spec in specs.items() if spec)


async def load_studios(
    settings: Settings, tiers: frozenset[Tier] | None = None
) -> dict[Tier, Studio]:
    """Load the backend of each tier served (None: each configured) once; at least one is needed.

    A backend must serve the tier of the setting it was loaded from: an express factory put in
    HEADSHOTS_STUDIO would take the studio queue's jobs and make express packs of them.
    """
    specs = {Tier.STUDIO: settings.studio, Tier.EXPRESS: settings.express_studio}
    served = configured_tiers(settings) if tiers is None else tiers
    if not served:
        raise ConfigError("HEADSHOTS_STUDIO and HEADSHOTS_EXPRESS_STUDIO are both empty")
    studios: dict[Tier, Studio] = {}
    for tier in sorted(served):
        spec = specs[tier]
        if not spec:
            raise ConfigError(
                f"the {tier} tier was asked for, but {STUDIO_SETTINGS[tier]} is empty"
            )
        studio = await asyncio.to_thread(load_studio_factory(spec), settings)
        if studio.tier is not tier:
            raise ConfigError(
                f"{STUDIO_SETTINGS[tier]} {spec!r} makes {studio.tier} packs, not {tier} ones"
            )
        studios[tier] = studio
    return studios


class JobSlot:
    """The one pack the GPU runs at a time, shared by every tier's arq Worker in the process."""

    def __init__(self, max_jobs: int = 1) -> None:
        self.jobs = 0
        # arq's own shape: max_jobs + 1 permits, the count checked after one is taken.
        self.sem = asyncio.BoundedSemaphore(max_jobs + 1)


class TierWorker(Worker):
    """An arq Worker for one tier's queue whose job count is the process's shared slot."""

    def __init__(self, slot: JobSlot, **kwargs: Any) -> None:
        self._slot = slot  # before Worker.__init__, which sets job_counter
        super().__init__(**kwargs)
        self.sem = slot.sem

    @property
    def job_counter(self) -> int:
        """Return the jobs running in the process, whichever tier's Worker started them."""
        return self._slot.jobs

    @job_counter.setter
    def job_counter(self, value: int) -> None:
        self._slot.jobs = value


def build_worker(
    settings: Settings,
    tier: Tier,
    *,
    pool: ArqRedis,
    slot: JobSlot,
    ctx: dict[str, Any],
    with_cron: bool,
    burst: bool = False,
) -> TierWorker:
    """Return the arq Worker of one tier's queue, configured from `settings` alone."""
    pack = func(
        run_pack,
        name=PACK_JOB,
        timeout=settings.pack_timeout_s + TIMEOUT_GRACE_S,
        max_tries=settings.pack_max_tries + 1,  # the extra run only reports "gave up"
        keep_result=3600,
    )
    # Every 15 minutes, delete what has outlived the privacy notice's promise; one tier's Worker
    # runs it. Its timeout stays below the pack's: arq sizes the in-progress expiry, which orphan
    # recovery relies on, from the longest function timeout.
    retention = cron(sweep_retention, minute=set(range(0, 60, 15)), timeout=settings.pack_timeout_s)
    return TierWorker(
        slot,
        functions=[pack],
        queue_name=queue_name(tier),
        redis_pool=pool,
        max_jobs=1,  # one GPU, one pack
        allow_abort_jobs=True,
        job_serializer=dumps,
        job_deserializer=loads,
        poll_delay=settings.worker_poll_delay_s,
        after_job_end=_announce_positions,
        handle_signals=False,  # the host stops every tier's Worker together
        ctx={**ctx, "tier": tier},
        burst=burst,
        health_check_interval=60,
        cron_jobs=[retention] if with_cron else None,
    )


async def run_pack(ctx: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """The arq function: run one try of a pack or of a re-roll (same queue, same limits)."""
    request = PackRequest.from_json(payload)
    bind_job(request.job_id, request.user_scope)  # log lines of this job carry both
    running: set[str] = ctx["running"]
    running.add(request.job_id)
    run = RerollRun if request.reroll is not None else PackRun
    try:
        return await run(ctx["resources"], ctx["redis"], request, ctx["job_try"]).run()
    finally:
        running.discard(request.job_id)


async def sweep_retention(ctx: dict[str, Any]) -> None:
    """The arq cron job: run one retention sweep with the worker's own state and blob store."""
    resources: WorkerResources = ctx["resources"]
    policy = RetentionPolicy.from_settings(resources.settings)
    await sweep(resources.state, resources.blobs, ctx["redis"], policy)


async def recover_orphans(
    redis: Redis, settings: Settings, own: frozenset[str] = frozenset()
) -> list[str]:
    """Hand back jobs in progress whose lease lapsed (their worker died); return their ids.

    `own` are the jobs this worker runs: their lease can lapse during a Redis outage longer
    than the lease, and they are not lost.
    """
    in_progress_ms = (settings.pack_timeout_s + TIMEOUT_GRACE_S + ARQ_IN_PROGRESS_EXTRA_S) * 1000
    recovered = []
    for job_id in await queued_job_ids(redis):  # every tier's: a dead worker of any is noticed
        left_ms = await redis.pttl(arq_in_progress_key(job_id))
        started_ago_ms = in_progress_ms - left_ms
        if job_id in own or left_ms < 0 or started_ago_ms < settings.worker_lease_s * 1000:
            continue  # not running, or too young to have set its lease yet
        if await redis.exists(lease_key(job_id)):
            continue
        await redis.delete(arq_in_progress_key(job_id))  # the next poll starts it again
        log.warning("job %s lost its worker; handed back to the queue", job_id)
        recovered.append(job_id)
    return recovered


async def _announce_positions(ctx: dict[str, Any]) -> None:
    """Tell every job waiting in the tier's queue its new place after one of the tier finished."""
    redis: Redis = ctx["redis"]
    settings: Settings = ctx["settings"]
    tier: Tier = ctx["tier"]
    typical = await eta.typical(redis, tier)
    workers = await live_workers(redis, tier)
    for rank, job_id in enumerate(await queued_job_ids(redis, tier)):
        if await redis.exists(arq_in_progress_key(job_id)):
            continue
        eta_s = eta.queue_eta_s(typical.stage_s, rank + 1, workers)
        event = Queued(job_id=job_id, position=rank + 1, eta_s=eta_s,
                       first_estimate=typical.first_estimate)  # fmt: skip
        await publish_event(redis, event, settings.job_ttl_s)
