"""Stage durations measured by the worker, kept in Redis, and the estimates made from them."""

from __future__ import annotations

import statistics
from collections.abc import Awaitable
from typing import cast

from redis.asyncio import Redis

# Guesses for a fresh deployment (SDXL LoRA on one GPU); replaced by measurements after one job.
DEFAULT_S = {"preprocess": 20.0, "train": 900.0, "generate": 240.0, "select": 20.0}
STAGES = tuple(DEFAULT_S)
SAMPLES = 20


def _key(stage: str) -> str:
    return f"hs:eta:{stage}"


async def record_s(redis: Redis, stage: str, seconds: float) -> None:
    """Remember how long one run of `stage` took."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lpush(_key(stage), f"{seconds:.3f}")
        pipe.ltrim(_key(stage), 0, SAMPLES - 1)
        await pipe.execute()


async def typical_s(redis: Redis) -> dict[str, float]:
    """Return the median measured duration of each stage, or its default."""
    async with redis.pipeline(transaction=False) as pipe:
        for stage in STAGES:
            pipe.lrange(_key(stage), 0, -1)
        found = cast(list[list[bytes | str]], await cast(Awaitable[object], pipe.execute()))
    typical = {}
    for stage, samples in zip(STAGES, found, strict=True):
        values = [float(value) for value in samples]
        typical[stage] = statistics.median(values) if values else DEFAULT_S[stage]
    return typical


def after_s(typical: dict[str, float], stage: str) -> float:
    """Return the typical time of the stages that follow `stage`."""
    return sum(typical[name] for name in STAGES[STAGES.index(stage) + 1 :])


def queue_eta_s(typical: dict[str, float], position: int) -> float:
    """Return the time until a job at `position` is done (the one running counted as half done)."""
    total = sum(typical.values())
    return max(position - 0.5, 1.0) * total if position else total


def stage_eta_s(
    typical: dict[str, float], stage: str, done: int, total: int, spent_s: float
) -> float:
    """Return the time left: this stage extrapolated from its progress, plus the typical rest."""
    if done > 0 and total > 0:
        left = spent_s * (total - done) / done
    else:
        left = max(typical[stage] - spent_s, 0.0)
    return left + after_s(typical, stage)
