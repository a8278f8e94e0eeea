"""Per-chat pacing: a small token bucket per chat, so bursts pass and floods wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class ChatPacer:
    """Let `burst` messages through at once per chat, then one per `interval_s`.

    Telegram allows about one message per second per chat, with short bursts; staying under it
    keeps us clear of 429s, which (through AIORateLimiter) would pause every chat, not just one.
    """

    def __init__(
        self, interval_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval_s = interval_s
        self._burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, chat_id: str) -> None:
        """Return when the chat may receive one more message."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            delay = self._take(chat_id)
            if delay > 0:
                await asyncio.sleep(delay)

    def _take(self, chat_id: str) -> float:
        now = self._clock()
        bucket = self._buckets.setdefault(chat_id, _Bucket(float(self._burst), now))
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.stamp) / self._interval_s)
        bucket.stamp = now
        bucket.tokens -= 1
        # A negative balance is the time until this message's token has been refilled.
        return max(0.0, -bucket.tokens * self._interval_s)
