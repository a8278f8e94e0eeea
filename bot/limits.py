"""Abuse limits from settings: who may use the bot, packs per day, and the global queue length."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bot.i18n import N_, t
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

    def allows(self, platform: str, user_id: str) -> bool:
        """Return whether the person may use this (maybe private) deployment."""
        return not self.allowed_users or f"{platform}:{user_id}" in self.allowed_users


DAILY_LIMIT = N_(
    "You've made {limit} packs today, the daily limit. Please come back tomorrow; your selfies"
    " stay here until then."
)
BUSY = N_(
    "I'm very busy right now ({waiting} packs waiting, about {minutes} minutes). Please tap"
    " Start again a little later; nothing you sent is lost."
)


async def pack_refusal(state: StateStore, redis: Redis, scope: str, limits: Limits) -> str | None:
    """Return why a new pack cannot start now, or None if it can."""
    used = await state.get(keys.quota_key(scope))
    if used is not None and int(used.get("packs", 0)) >= limits.packs_per_day:
        return t(DAILY_LIMIT, limit=limits.packs_per_day)
    waiting = await queue_length(redis)
    if waiting >= limits.max_queue_length:
        minutes = eta.queue_eta_s(await eta.typical_s(redis), waiting) / 60
        return t(BUSY, waiting=waiting, minutes=round(minutes))
    return None


async def count_pack(state: StateStore, scope: str) -> None:
    """Count one started pack against today's quota."""

    def bump(doc: JsonDict | None) -> JsonDict:
        return {"packs": int((doc or {}).get("packs", 0)) + 1}

    await state.update(keys.quota_key(scope), bump, ttl_s=2 * DAY_S)
