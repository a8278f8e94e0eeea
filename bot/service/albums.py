"""Collects the photos of one album (separate updates sharing a group id) into one batch."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from bot.chat.events import ChatRef, Photo

BatchHandler = Callable[[ChatRef, Sequence[Photo]], Awaitable[None]]


class AlbumCollector:
    """Waits until an album has been quiet for `wait_s`, then hands its photos over at once."""

    def __init__(self, handler: BatchHandler, wait_s: float) -> None:
        self._handler = handler
        self._wait_s = wait_s
        self._photos: dict[tuple[str, str, str], list[Photo]] = {}
        self._timers: dict[tuple[str, str, str], asyncio.Task[None]] = {}
        self._handling: set[asyncio.Task[None]] = set()

    def add(self, chat: ChatRef, photo: Photo) -> None:
        """Add a photo of an album; restart that album's quiet timer."""
        key = (chat.platform, chat.chat_id, photo.group_id or "")
        self._photos.setdefault(key, []).append(photo)
        timer = self._timers.get(key)
        if timer is not None:
            timer.cancel()
        self._timers[key] = asyncio.create_task(self._flush_later(key, chat))

    async def drain(self) -> None:
        """Wait for every pending album to be handled, including those being handled now."""
        while self._timers or self._handling:
            tasks = [*self._timers.values(), *self._handling]
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _flush_later(self, key: tuple[str, str, str], chat: ChatRef) -> None:
        await asyncio.sleep(self._wait_s)
        # Past the sleep this task can no longer be cancelled by a newer photo: it owns the batch.
        task = self._timers.pop(key)
        self._handling.add(task)
        try:
            await self._handler(chat, self._photos.pop(key, []))
        finally:
            self._handling.discard(task)
