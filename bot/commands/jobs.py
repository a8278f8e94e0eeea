"""`headshots jobs`: list queued and running packs (and with --all, finished ones and errors)."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.jobs import JobEvent, JobRecord

NAME = "jobs"
HELP = "list queued and running pack jobs for an operator"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --all to include finished jobs and their errors."""
    parser.add_argument(
        "--all", action="store_true", help="also list finished, failed and cancelled jobs"
    )


def run(args: argparse.Namespace) -> int:
    """Print one line per job: id, status, stage, age, and the error of a failed one."""
    from core.settings import load_settings

    for line in asyncio.run(_lines(load_settings(), everything=args.all)):
        print(line)
    return 0


async def _lines(settings: Any, *, everything: bool) -> list[str]:
    from engine.jobs import Tier, create_arq_pool, latest_event
    from engine.jobs.queue import is_running, queued_job_ids
    from engine.jobs.records import all_records, open_state

    arq = await create_arq_pool(settings)
    state = open_state(settings.redis_url)
    try:
        queued = {tier: await queued_job_ids(arq, tier) for tier in Tier}
        lines: list[tuple[int, str]] = []
        for record in await all_records(state):
            if not everything and record.status.terminal:
                continue
            running = await is_running(arq, record.job_id)
            latest = await latest_event(arq, record.job_id)
            ahead = queued[record.request.tier]
            place = ahead.index(record.job_id) if record.job_id in ahead else len(ahead)
            lines.append((place, _describe(record, ahead, running, latest)))
        jobs = [line for _, line in sorted(lines)] or ["no jobs"]
        return [await _tier_line(arq, tier) for tier in Tier] + jobs
    finally:
        await state.close()
        await arq.aclose()


async def _tier_line(arq: Any, tier: Any) -> str:
    """Return one tier's queue at a glance: its length, oldest wait and live workers."""
    from engine.jobs.queue import oldest_wait_s, queue_length
    from engine.jobs.workers import live_workers

    length, oldest_s = await queue_length(arq, tier), await oldest_wait_s(arq, tier)
    workers = await live_workers(arq, tier)
    return f"{tier}: queue={length} oldest_wait={oldest_s:.0f}s workers={workers}"


def _describe(record: JobRecord, queued: list[str], running: bool, latest: JobEvent | None) -> str:
    import time

    job_id = record.job_id
    status = "running" if running else str(record.status)
    place = f" position={queued.index(job_id) + 1}" if job_id in queued else ""
    age_s = time.time() - record.at
    kind = latest.kind if latest else "-"
    error = f" error={record.error!r}" if record.error else ""
    user, tier = record.request.user_scope, record.request.tier
    return f"{job_id} {tier} {status}{place} last_event={kind} age={age_s:.0f}s user={user}{error}"
