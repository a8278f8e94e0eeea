"""`headshots jobs`: list queued and running packs (and with --all, finished ones and errors)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

NAME = "jobs"
HELP = "list queued and running pack jobs for an operator"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --all to include finished jobs and their errors."""
    parser.add_argument(
        "--all", action="store_true", help="also list finished, failed and cancelled jobs"
    )


def run(args: argparse.Namespace) -> int:
    """Print one line per job: id, status, stage, age, and the error of a failed one."""
    from storage.settings import load_settings

    for line in asyncio.run(_lines(load_settings(), everything=args.all)):
        print(line)
    return 0


async def _lines(settings: Any, *, everything: bool) -> list[str]:
    from arq.constants import in_progress_key_prefix

    from engine.jobs import QUEUE_NAME, TERMINAL_STATUSES, create_arq_pool, latest_key
    from storage.state_redis import RedisStateStore

    arq = await create_arq_pool(settings)
    state = RedisStateStore.from_url(settings.redis_url)
    try:
        queued = [_str(raw) for raw in await arq.zrange(QUEUE_NAME, 0, -1)]
        lines: list[tuple[int, str]] = []
        for key in await state.keys("job:"):
            record = await state.get(key)
            if record is None:
                continue
            job_id = str(record["job_id"])
            if not everything and record.get("status") in TERMINAL_STATUSES:
                continue
            running = bool(await arq.exists(in_progress_key_prefix + job_id))
            latest = _str(await arq.get(latest_key(job_id)))
            place = queued.index(job_id) if job_id in queued else len(queued)
            lines.append((place, _describe(record, queued, running, latest)))
        return [line for _, line in sorted(lines)] or ["no jobs"]
    finally:
        await state.close()
        await arq.aclose()


def _describe(record: dict[str, Any], queued: list[str], running: bool, latest: str) -> str:
    import json
    import time

    job_id = str(record["job_id"])
    status = "running" if running else str(record.get("status", "?"))
    place = f" position={queued.index(job_id) + 1}" if job_id in queued else ""
    age_s = time.time() - float(record.get("at", time.time()))
    kind = json.loads(latest).get("kind", "") if latest else ""
    error = f" error={record['error']!r}" if record.get("error") else ""
    user = record["request"]["user_scope"]
    return f"{job_id} {status}{place} last_event={kind or '-'} age={age_s:.0f}s user={user}{error}"


def _str(value: Any) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)
