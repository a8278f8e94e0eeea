"""`headshots worker`'s process: backends loaded once, one arq Worker per tier, one pack at a time.

The host loads the backend of each tier it serves, moves what still waits in the single queue of
old to the tiers' queues, then runs one arq Worker per tier on one Redis pool. The Workers share
one job slot (engine.worker.runner.JobSlot): an express job waits while a studio pack trains.
While it runs, the host beats into its tiers' live sets (engine.jobs.workers), sweeps every
tier's queue for orphans, and moves legacy jobs again at every sweep.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import uuid
from typing import Any

from arq import ArqRedis, create_pool

from core.errors import ConfigError
from core.settings import Settings
from engine.jobs import Tier
from engine.jobs.queue import dumps, loads, move_legacy_jobs, redis_settings
from engine.jobs.records import open_state
from engine.jobs.workers import BEAT_S, beat, clear_unavailable, leave, mark_unavailable
from engine.worker.pack_job import WorkerResources
from engine.worker.runner import (
    RIDE_OUT_S,
    JobSlot,
    TierWorker,
    build_worker,
    load_studios,
    recover_orphans,
)
from ops.server import start_ops_server, stop_ops_server
from storage.blobs_open import open_blob_store

log = logging.getLogger(__name__)


def parse_tiers(value: str) -> frozenset[Tier]:
    """Return the tiers of `--tiers express,studio`; raise ConfigError naming a bad one."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    known = {str(tier) for tier in Tier}
    bad = [name for name in names if name not in known]
    if bad or not names:
        raise ConfigError(
            f"--tiers takes {' and/or '.join(sorted(known))}, comma-separated, not {value!r}"
        )
    return frozenset(Tier(name) for name in names)


def run_worker(
    settings: Settings, *, tiers: frozenset[Tier] | None = None, burst: bool = False
) -> None:
    """Serve `tiers` (None: every tier whose backend is set) until SIGINT or SIGTERM."""
    asyncio.run(WorkerHost(settings, tiers, burst=burst).serve())


class WorkerHost:
    """One worker process: its resources, its tiers' arq Workers and its background tasks."""

    def __init__(
        self, settings: Settings, tiers: frozenset[Tier] | None, *, burst: bool = False
    ) -> None:
        self._settings = settings
        self._tiers = tiers
        self._burst = burst
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._workers: list[TierWorker] = []
        self._served: tuple[Tier, ...] = ()

    async def serve(self) -> None:
        """Load, serve until stopped (or, in burst mode, until the queues are empty), clean up."""
        pool = await create_pool(
            redis_settings(self._settings, ride_out_s=RIDE_OUT_S),
            job_serializer=dumps,
            job_deserializer=loads,
        )
        try:
            resources = await self._load(pool)
            try:
                await self._run(pool, resources)
            finally:
                await resources.blobs.close()
                await resources.state.close()
        finally:
            await pool.aclose()

    async def _load(self, pool: ArqRedis) -> WorkerResources:
        settings = self._settings
        try:
            studios = await load_studios(settings, self._tiers)
        except ConfigError as exc:  # restarting will not help: say why where the bot can see it
            await mark_unavailable(pool, str(exc))
            raise
        self._served = tuple(sorted(studios))
        # Live before the failed start is forgotten: the bot never sees "none at all" between.
        await beat(pool, self._served, self.worker_id)
        await clear_unavailable(pool)
        return WorkerResources(
            settings=settings,
            studios=studios,
            blobs=open_blob_store(settings),
            state=open_state(settings.redis_url, ride_out_s=RIDE_OUT_S),
        )

    async def _run(self, pool: ArqRedis, resources: WorkerResources) -> None:
        moved = await move_legacy_jobs(pool)
        if moved:
            log.info("moved %d job(s) from the old single queue to their tiers' queues", len(moved))
        running: set[str] = set()
        ctx: dict[str, Any] = {"settings": self._settings, "resources": resources,
                               "running": running}  # fmt: skip
        slot = JobSlot()
        # The cron of retention runs on one Worker only, the first in name order (express when
        # served: the tier usually kept up, so the sweep does not wake a studio GPU).
        self._workers = [
            build_worker(
                self._settings,
                tier,
                pool=pool,
                slot=slot,
                ctx=ctx,
                with_cron=index == 0,
                burst=self._burst,
            )
            for index, tier in enumerate(self._served)
        ]
        ops = await start_ops_server(self._settings, pool, "worker")
        background = [
            asyncio.create_task(self._beat_forever(pool)),
            asyncio.create_task(self._sweep_forever(pool, running)),
        ]
        self._handle_signals()
        log.info("worker ready: %s tier(s) served", ", ".join(self._served))
        try:
            await self._until_stopped()
        finally:
            for task in background:
                task.cancel()
            await asyncio.wait(background)
            await leave(pool, self._served, self.worker_id)
            await stop_ops_server(ops)

    async def _until_stopped(self) -> None:
        """Run every tier's Worker until all stop, then let their job tasks finish (arq's close)."""
        mains = [asyncio.create_task(worker.async_run()) for worker in self._workers]
        await asyncio.wait(mains)
        for main in mains:
            if not main.cancelled() and main.exception() is not None:
                log.error("a tier's worker ended", exc_info=main.exception())
        tasks = [task for worker in self._workers for task in worker.tasks.values()]
        await asyncio.gather(*tasks, return_exceptions=True)
        for worker in self._workers:
            await worker.pool.delete(worker.health_check_key)

    def _handle_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop_now, sig)

    def stop_now(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop every tier's Worker at once: a running pack is cancelled and goes back queued."""
        for worker in self._workers:
            worker.handle_sig(sig)

    async def _beat_forever(self, pool: ArqRedis) -> None:
        while True:
            try:
                await beat(pool, self._served, self.worker_id)
            except Exception:  # a Redis blip: the next beat says it again
                log.exception("worker heartbeat failed")
            await asyncio.sleep(BEAT_S)

    async def _sweep_forever(self, pool: ArqRedis, running: set[str]) -> None:
        while True:
            try:
                await recover_orphans(pool, self._settings, frozenset(running))
                await move_legacy_jobs(pool)  # an old worker's job, once it ended or died
            except Exception:  # Redis blips must not end the sweeping
                log.exception("orphan sweep failed")
            await asyncio.sleep(self._settings.worker_lease_s)
