"""Stage durations measured by the worker, kept in Redis, and the estimates made from them."""

from __future__ import annotations

import statistics
from collections.abc import Awaitable
from typing import cast

from redis.asyncio import Redis

from engine.jobs.contract import Tier
from engine.jobs.keys import eta_key

# Guesses for a fresh deployment on one GPU, replaced by this worker's measurements after one job:
# the studio tier trains a LoRA (SDXL); the express tier only picks references and renders.
DEFAULTS_S = {
    Tier.STUDIO: {"preprocess": 20.0, "personalize": 900.0, "generate": 240.0, "select": 20.0},
    Tier.EXPRESS: {"preprocess": 5.0, "personalize": 1.0, "generate": 40.0, "select": 10.0},
}
DEFAULT_S = DEFAULTS_S[Tier.STUDIO]
STAGES = tuple(DEFAULT_S)
SAMPLES = 20


async def record_s(redis: Redis, stage: str, seconds: float, tier: Tier = Tier.STUDIO) -> None:
    """Remember how long one run of `stage` of a `tier` pack took."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lpush(eta_key(tier, stage), f"{seconds:.3f}")
        pipe.ltrim(eta_key(tier, stage), 0, SAMPLES - 1)
        await pipe.execute()


async def typical_s(redis: Redis, tier: Tier = Tier.STUDIO) -> dict[str, float]:
    """Return the median measured duration of each stage of a `tier` pack, or its default."""
    async with redis.pipeline(transaction=False) as pipe:
        for stage in STAGES:
            pipe.lrange(eta_key(tier, stage), 0, -1)
        found = cast(list[list[bytes | str]], await cast(Awaitable[object], pipe.execute()))
    typical = {}
    for stage, samples in zip(STAGES, found, strict=True):
        values = [float(value) for value in samples]
        typical[stage] = statistics.median(values) if values else DEFAULTS_S[tier][stage]
    return typical


def default_pack_s(tier: Tier) -> float:
    """Return the guess for a whole `tier` pack before any worker measured one."""
    return sum(DEFAULTS_S[tier].values())


async def pack_eta_s(redis: Redis, tier: Tier) -> float:
    """Return how long a `tier` pack takes once a worker starts it: its typical stages summed."""
    return sum((await typical_s(redis, tier)).values())


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
