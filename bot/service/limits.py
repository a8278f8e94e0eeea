"""Abuse limits from settings: who may use the bot, packs per day, and the global queue length.

The daily count is kept under a keyed hash of the person, not under their scope, so `/delete`
does not reset it, and nothing in it names them: the hash's key is a random salt of the day that
expires, with the counts, when the day ends. Until then the count can be tied to a person only
by someone holding both Redis and their platform id; after, by nobody. Every pack started
counts, a cancelled one too: start-and-cancel is the loop the limit is there to stop.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.text import messages as say
from bot.text.i18n import N_, t
from engine.jobs import Tier, eta, keys
from engine.jobs.queue import queue_length
from engine.jobs.workers import live_workers
from storage.state import JsonDict, StateStore

DAY_S = 24 * 3600
GRACE_S = 3600  # a count outlives its day by this much, for clocks a little apart


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


DAILY_LIMIT = N_(
    "You've made {limit} packs today, the daily limit. Please come back tomorrow; your selfies"
    " stay here until then."
)
BUSY = N_(
    "I'm very busy right now ({waiting} packs waiting, about {minutes} minutes). Please tap"
    " Start again a little later; nothing you sent is lost."
)


async def pack_refusal(
    state: StateStore, redis: Redis, scope: str, limits: Limits, tier: Tier = Tier.STUDIO
) -> str | None:
    """Return why a new pack of `tier` cannot start now, or None if it can."""
    used = await state.get(await quota_key(state, scope))
    if used is not None and int(used.get("packs", 0)) >= limits.packs_per_day:
        return t(DAILY_LIMIT, limit=limits.packs_per_day)
    waiting = await queue_length(redis, tier)  # a full studio queue does not hold express back
    if waiting >= limits.max_queue_length:
        typical = await eta.typical_s(redis, tier)
        minutes = eta.queue_eta_s(typical, waiting, await live_workers(redis, tier)) / 60
        return t(BUSY, waiting=waiting, minutes=round(minutes))
    return None


async def reroll_refusal(state: StateStore, scope: str, limits: Limits) -> str | None:
    """Return why a re-roll cannot start now, or None if it can.

    The queue-length limit does not apply: a re-roll goes ahead of the waiting packs.
    """
    used = await state.get(await quota_key(state, scope))
    if used is not None and int(used.get("rerolls", 0)) >= limits.rerolls_per_day:
        return t(say.REROLL_LIMIT, limit=limits.rerolls_per_day)
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

    await state.update(await quota_key(state, scope), bump, ttl_s=_rest_of_day_s())


async def quota_key(state: StateStore, scope: str, now_s: float | None = None) -> str:
    """Return today's quota key of the person: a hash keyed by the day's salt, not their scope."""
    day = keys.utc_day(now_s)
    salt = await _day_salt(state, day, _rest_of_day_s(now_s))
    tag = hmac.new(salt, scope.encode(), hashlib.sha256).hexdigest()[:32]
    return keys.quota_key(tag, day)


async def _day_salt(state: StateStore, day: str, ttl_s: int) -> bytes:
    key = keys.quota_salt_key(day)
    await state.set_if_absent(key, {"salt": secrets.token_hex(32)}, ttl_s=ttl_s)
    doc = await state.get(key)
    if doc is None:  # expired between the two calls, at the day's very end
        return await _day_salt(state, day, ttl_s)
    return bytes.fromhex(str(doc["salt"]))


def _rest_of_day_s(now_s: float | None = None) -> int:
    """Return the seconds until the current UTC day ends, plus the grace."""
    now = time.time() if now_s is None else now_s
    return int(DAY_S - now % DAY_S) + GRACE_S
