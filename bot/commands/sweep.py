"""`headshots sweep`: run the retention sweep once (the worker also runs it on a schedule)."""

from __future__ import annotations

import argparse
import asyncio

from core.settings import Settings, load_settings

NAME = "sweep"
HELP = "delete selfies, face models and results past their retention time, now"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take no arguments."""


def run(args: argparse.Namespace) -> int:
    """Sweep once and print the counts."""
    print(asyncio.run(_sweep(load_settings())))
    return 0


async def _sweep(settings: Settings) -> str:
    from redis.asyncio import Redis

    from engine.jobs.records import open_state
    from engine.jobs.retention import RetentionPolicy, sweep
    from storage.blobs_open import open_blob_store

    state = open_state(settings.redis_url)
    blobs = open_blob_store(settings)
    redis = Redis.from_url(settings.redis_url)
    try:
        counts = await sweep(state, blobs, redis, RetentionPolicy.from_settings(settings))
    finally:
        await redis.aclose()
        await blobs.close()
        await state.close()
    return (
        f"deleted {counts.private_blobs} selfie/face-model blob(s), "
        f"{counts.result_blobs} result blob(s), {counts.records} job record(s), "
        f"{counts.sessions} idle conversation(s), {counts.abandoned_blobs} abandoned selfie(s)"
    )
