"""Abuse limits from settings: who may use the bot, packs per day, and the global queue length."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bot import messages as say
from engine.jobs import eta, keys
from engine.jobs.queue import queue_length
from storage.state import JsonDict, StateStore

DAY_S = 24 * 3600


@dataclass(frozen=True)
class Limits:
    """The limits of one deployment."""

    packs_per_day: int = 3
    max_queue_length: int = 100
    allowed_users: frozenset[str] = frozenset()  # "telegram:123"; empty means everyone
    rerolls_per_day: int = 12  # small jobs: counted in the same daily quota, with their own cap

    def allows(self, platform: str, user_id: str) -> bool:
        """Return whether the person may use this (maybe private) deployment."""
        return not self.allowed_users or f"{platform}:{user_id}" in self.allowed_users


async def pack_refusal(state: StateStore, redis: Redis, scope: str, limits: Limits) -> str | None:
    """Return why a new pack cannot start now, or None if it can."""
    used = await state.get(keys.quota_key(scope))
    if used is not None and int(used.get("packs", 0)) >= limits.packs_per_day:
        return (
            f"You've made {limits.packs_per_day} packs today, the daily limit. "
            "Please come back tomorrow; your selfies stay here until then."
        )
    waiting = await queue_length(redis)
    if waiting >= limits.max_queue_length:
        minutes = eta.queue_eta_s(await eta.typical_s(redis), waiting) / 60
        return (
            f"I'm very busy right now ({waiting} packs waiting, about {minutes:.0f} minutes). "
            "Please tap Start again a little later; nothing you sent is lost."
        )
    return None


async def reroll_refusal(state: StateStore, scope: str, limits: Limits) -> str | None:
    """Return why a re-roll cannot start now, or None if it can.

    The queue-length limit does not apply: a re-roll goes ahead of the waiting packs.
    """
    used = await state.get(keys.quota_key(scope))
    if used is not None and int(used.get("rerolls", 0)) >= limits.rerolls_per_day:
        return say.REROLL_LIMIT.format(limit=limits.rerolls_per_day)
    return None


async def count_pack(state: StateStore, scope: str) -> None:
    """Count one started pack against today's quota."""
    await _count(state, scope, "packs")


async def count_reroll(state: StateStore, scope: str) -> None:
    """Count one started re-roll against today's quota."""
    await _count(state, scope, "rerolls")


async def _count(state: StateStore, scope: str, field: str) -> None:
    def bump(doc: JsonDict | None) -> JsonDict:
        doc = dict(doc or {})
        return {**doc, field: int(doc.get(field, 0)) + 1}

    await state.update(keys.quota_key(scope), bump, ttl_s=2 * DAY_S)
