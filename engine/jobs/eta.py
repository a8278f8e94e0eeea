"""Stage durations measured by the worker, kept in Redis, and the estimates made from them.

Before a host has finished a pack of a tier, its stages are guesses (DEFAULTS_S) and every
estimate says it is a first one. A running pack also learns from itself: once a stage has
finished or made progress, the stages the host has not measured yet are their guesses scaled by
how fast this pack ran against the guesses so far (the generate stage, once measured, is its
time per image times this pack's images). On a tiny model that is the difference between
"about 4 min left" and the truth, 10 s, at 100% training.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable
from dataclasses import dataclass, field
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
PER_IMAGE = "per_image"  # the generate stage's seconds per rendered candidate
SAMPLES = 20


@dataclass(frozen=True)
class Typical:
    """What a tier's packs took on this host: each stage's median, or its guess."""

    tier: Tier
    stage_s: dict[str, float]
    measured: frozenset[str] = frozenset()  # the stages this host has timed
    per_image_s: float | None = None  # the median generate time per candidate, once timed

    @property
    def first_estimate(self) -> bool:
        """Return whether nothing is measured yet: every figure is a guess."""
        return not self.measured

    @property
    def total_s(self) -> float:
        """Return the typical whole pack."""
        return sum(self.stage_s.values())


async def record_s(redis: Redis, stage: str, seconds: float, tier: Tier = Tier.STUDIO) -> None:
    """Remember how long one run of `stage` of a `tier` pack took (or PER_IMAGE: one image)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lpush(eta_key(tier, stage), f"{seconds:.3f}")
        pipe.ltrim(eta_key(tier, stage), 0, SAMPLES - 1)
        await pipe.execute()


async def typical(redis: Redis, tier: Tier = Tier.STUDIO) -> Typical:
    """Return the median measured duration of each stage of a `tier` pack, or its default."""
    names = (*STAGES, PER_IMAGE)
    async with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.lrange(eta_key(tier, name), 0, -1)
        found = cast(list[list[bytes | str]], await cast(Awaitable[object], pipe.execute()))
    medians = {
        name: statistics.median(float(v) for v in samples)
        for name, samples in zip(names, found, strict=True)
        if samples
    }
    stage_s = {stage: medians.get(stage, DEFAULTS_S[tier][stage]) for stage in STAGES}
    measured = frozenset(medians) - {PER_IMAGE}
    return Typical(tier, stage_s, measured, medians.get(PER_IMAGE))


async def typical_s(redis: Redis, tier: Tier = Tier.STUDIO) -> dict[str, float]:
    """Return the typical duration of each stage of a `tier` pack (see `typical`)."""
    return (await typical(redis, tier)).stage_s


def default_pack_s(tier: Tier) -> float:
    """Return the guess for a whole `tier` pack before any worker measured one."""
    return sum(DEFAULTS_S[tier].values())


async def pack_eta_s(redis: Redis, tier: Tier) -> float:
    """Return how long a `tier` pack takes once a worker starts it: its typical stages summed."""
    return (await typical(redis, tier)).total_s


def queue_eta_s(typical: dict[str, float], position: int, workers: int = 1) -> float:
    """Return the time until a job at `position` is done (the one running counted as half done).

    `workers` live workers of the tier take the queue that many jobs at a time; none counts as
    one, the one the person is told is coming.
    """
    total = sum(typical.values())
    if not position:
        return total
    rounds_ahead = (position - 1) // max(workers, 1)
    return max(rounds_ahead + 0.5, 1.0) * total


@dataclass
class PackClock:
    """The time left of one running pack, learning its pace from the stages it has done."""

    typical: Typical
    images: int  # candidates the generate stage renders
    _done_s: dict[str, float] = field(default_factory=dict)

    @property
    def first_estimate(self) -> bool:
        """Return whether the host has no measurement of this tier yet."""
        return self.typical.first_estimate

    def finished(self, stage: str, seconds: float) -> None:
        """Note that `stage` of this pack took `seconds`."""
        self._done_s[stage] = seconds

    def seconds(self, stage: str) -> float:
        """Return how long the finished `stage` of this pack took."""
        return self._done_s[stage]

    def total_s(self) -> float:
        """Return the whole pack as expected now."""
        return sum(self._expected(stage, self._pace()) for stage in STAGES)

    def left_s(self, stage: str, done: int = 0, total: int = 0, spent_s: float = 0.0) -> float:
        """Return the time left: `stage` extrapolated from its progress, then the rest."""
        if done > 0 and total > 0:
            projected = spent_s * total / done
            left = projected - spent_s
            pace = self._pace({stage: projected})
        else:
            pace = self._pace()
            left = max(self._expected(stage, pace) - spent_s, 0.0)
        rest = STAGES[STAGES.index(stage) + 1 :]
        return left + sum(self._expected(name, pace) for name in rest)

    def _expected(self, stage: str, pace: float) -> float:
        """Return how long `stage` should take: as timed, as measured here, or its guess at pace."""
        if stage in self._done_s:
            return self._done_s[stage]
        return self._base(stage) * (1.0 if stage in self.typical.measured else pace)

    def _base(self, stage: str) -> float:
        """Return the host's typical `stage`; the generate stage scaled to this pack's images."""
        if stage == "generate" and self.typical.per_image_s is not None:
            return self.typical.per_image_s * self.images
        return self.typical.stage_s[stage]

    def _pace(self, running: dict[str, float] | None = None) -> float:
        """Return this pack's time over the guesses for the stages it has timed so far."""
        timed = self._done_s | (running or {})
        guessed = sum(DEFAULTS_S[self.typical.tier][stage] for stage in timed)
        return sum(timed.values()) / guessed if guessed > 0 else 1.0
