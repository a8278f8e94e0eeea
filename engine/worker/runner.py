"""The GPU worker: an arq worker built from Settings, one pack at a time, studio loaded once.

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

from arq import Worker, cron, func
from redis.asyncio import Redis

from core.errors import ConfigError
from core.settings import Settings
from engine.jobs import PACK_JOB, PackRequest, Queued, Tier, eta, publish_event
from engine.jobs.keys import QUEUE_NAME, arq_in_progress_key, lease_key
from engine.jobs.queue import dumps, loads, queued_job_ids, redis_settings
from engine.jobs.records import open_state
from engine.jobs.retention import RetentionPolicy, sweep
from engine.jobs.workers import clear_unavailable, mark_unavailable
from engine.studio.protocol import Studio
from engine.worker.pack_job import PackRun, WorkerResources
from engine.worker.reroll_job import RerollRun
from ops.logs import bind_job
from ops.server import start_ops_server, stop_ops_server
from storage.blobs_open import open_blob_store

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


async def load_studios(settings: Settings) -> dict[Tier, Studio]:
    """Load each configured backend once, keyed by the tier it serves; at least one is needed."""
    specs = [spec for spec in (settings.studio, settings.express_studio) if spec]
    if not specs:
        raise ConfigError("HEADSHOTS_STUDIO and HEADSHOTS_EXPRESS_STUDIO are both empty")
    studios: dict[Tier, Studio] = {}
    for spec in specs:
        studio = await asyncio.to_thread(load_studio_factory(spec), settings)
        studios[studio.tier] = studio
    return studios


def build_worker(settings: Settings, *, burst: bool = False) -> Worker:
    """Return the arq worker for the GPU queue, configured from `settings` alone."""
    pack = func(
        run_pack,
        name=PACK_JOB,
        timeout=settings.pack_timeout_s + TIMEOUT_GRACE_S,
        max_tries=settings.pack_max_tries + 1,  # the extra run only reports "gave up"
        keep_result=3600,
    )
    # Every 15 minutes, delete what has outlived the privacy notice's promise. Its timeout stays
    # below the pack's: arq sizes the in-progress expiry, which orphan recovery relies on, from
    # the longest function timeout.
    retention = cron(sweep_retention, minute=set(range(0, 60, 15)), timeout=settings.pack_timeout_s)
    return Worker(
        functions=[pack],
        queue_name=QUEUE_NAME,
        redis_settings=redis_settings(settings, ride_out_s=RIDE_OUT_S),
        max_jobs=1,  # one GPU, one pack
        allow_abort_jobs=True,
        job_serializer=dumps,
        job_deserializer=loads,
        poll_delay=settings.worker_poll_delay_s,
        on_startup=_startup,
        on_shutdown=_shutdown,
        after_job_end=_announce_positions,
        ctx={"settings": settings},
        burst=burst,
        health_check_interval=60,
        cron_jobs=[retention],
    )


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """Run the worker until SIGINT or SIGTERM (a running pack is re-queued and resumes later)."""
    build_worker(settings, burst=burst).run()


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
    for job_id in await queued_job_ids(redis):
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


async def _sweep_forever(redis: Redis, settings: Settings, running: set[str]) -> None:
    while True:
        try:
            await recover_orphans(redis, settings, frozenset(running))
        except Exception:  # Redis blips must not end the sweeping
            log.exception("orphan sweep failed")
        await asyncio.sleep(settings.worker_lease_s)


async def _startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    try:
        studios = await load_studios(settings)
    except ConfigError as exc:  # restarting will not help: say why where the bot can see it
        await mark_unavailable(ctx["redis"], str(exc))
        raise
    await clear_unavailable(ctx["redis"])
    ctx["resources"] = WorkerResources(
        settings=settings,
        studios=studios,
        blobs=open_blob_store(settings),
        state=open_state(settings.redis_url, ride_out_s=RIDE_OUT_S),
    )
    ctx["running"] = set()
    ctx["sweeper"] = asyncio.create_task(_sweep_forever(ctx["redis"], settings, ctx["running"]))
    ctx["ops"] = await start_ops_server(settings, ctx["redis"], "worker")
    for tier in sorted(set(Tier) - set(studios)):
        log.warning("the %s tier is off on this worker: its packs fail with a plain message", tier)
    log.info("worker ready: %s tier(s) served", ", ".join(sorted(studios)))


async def _shutdown(ctx: dict[str, Any]) -> None:
    await stop_ops_server(ctx.get("ops"))
    sweeper = ctx.get("sweeper")
    if sweeper is not None:
        sweeper.cancel()
        await asyncio.wait([sweeper])
    resources: WorkerResources | None = ctx.get("resources")
    if resources is not None:
        await resources.blobs.close()
        await resources.state.close()


async def _announce_positions(ctx: dict[str, Any]) -> None:
    """Tell every waiting job its new place in the queue after one finished."""
    redis: Redis = ctx["redis"]
    settings: Settings = ctx["settings"]
    typical = await eta.typical(redis)
    for rank, job_id in enumerate(await queued_job_ids(redis)):
        if await redis.exists(arq_in_progress_key(job_id)):
            continue
        eta_s = eta.queue_eta_s(typical.stage_s, rank + 1)
        event = Queued(job_id=job_id, position=rank + 1, eta_s=eta_s,
                       first_estimate=typical.first_estimate)  # fmt: skip
        await publish_event(redis, event, settings.job_ttl_s)
