"""Collects the photos of one album (separate updates sharing a group id) into one batch.

The photos wait in Redis, not in a replica: each one is appended to the album's list and pushes
the album's quiet deadline (`ALBUMS_DUE`, on Redis's own clock) `wait_s` further. Whichever replica
finds the album quiet first claims it in one script (the deadline is dropped and the list read and
deleted together), so the batch is handed over exactly once, by whichever replica got the last
photo or, if that one died, by any replica's sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.chat.events import ChatRef, Photo
from engine.jobs import keys
from storage.keys import user_scope

log = logging.getLogger(__name__)

BatchHandler = Callable[[ChatRef, Sequence[Photo], str], Awaitable[None]]
"""Receives the chat, the album's photos in arrival order, and the platform's language code."""

SWEEP_BATCH = 20  # albums claimed per sweep; a sweep runs again soon after

# KEYS: the album's list, ALBUMS_DUE. ARGV: the photo, the album id, the quiet window (ms), the
# list's lifetime (s, a safety net: a sweep claims the album long before).
_APPEND_LUA = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], now_ms + tonumber(ARGV[3]), ARGV[2])
return 1
"""

# KEYS: the album's list, ALBUMS_DUE. ARGV: the album id. Returns {-1} when nobody holds the
# album any more (claimed already), {ms} while it is not quiet yet, {0, photo...} once claimed.
_CLAIM_LUA = """
local due = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not due then return {-1} end
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local left = tonumber(due) - now_ms
if left > 0 then return {math.ceil(left)} end
redis.call('ZREM', KEYS[2], ARGV[1])
local photos = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
table.insert(photos, 1, 0)
return photos
"""

# KEYS: ALBUMS_DUE. ARGV: how many. Returns the ids of albums already quiet, oldest first.
_DUE_LUA = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms, 'LIMIT', 0, tonumber(ARGV[1]))
"""


@dataclass(frozen=True)
class Album:
    """A claimed album: where it came from and its photos."""

    chat: ChatRef
    language: str
    photos: tuple[Photo, ...]


class AlbumStore:
    """The albums being collected, in Redis, shared by every replica."""

    def __init__(self, redis: Redis, wait_s: float) -> None:
        self._redis = redis
        self.wait_s = wait_s
        self._ttl_s = max(60, int(wait_s * 20))

    async def append(self, chat: ChatRef, photo: Photo, language: str = "") -> str:
        """Add a photo to its album and push the album's quiet deadline; return the album id."""
        album = keys.album_id(user_scope(chat.platform, chat.user_id), photo.group_id or "")
        wait_ms, ttl_s = str(int(self.wait_s * 1000)), str(self._ttl_s)
        entry = _encode(chat, photo, language)
        await self._redis.eval(  # type: ignore[misc]
            _APPEND_LUA,
            2,
            keys.album_key(album),
            keys.ALBUMS_DUE,
            entry,  # type: ignore[arg-type]
            album,
            wait_ms,
            ttl_s,
        )
        return album

    async def claim(self, album: str) -> Album | float | None:
        """Take the album if quiet; else return the seconds it still needs, or None if gone."""
        reply = await self._redis.eval(  # type: ignore[misc]
            _CLAIM_LUA, 2, keys.album_key(album), keys.ALBUMS_DUE, album
        )
        head, entries = int(reply[0]), reply[1:]
        if head < 0:
            return None
        if head > 0:
            return head / 1000
        return _decode(entries) if entries else None

    async def due(self) -> list[str]:
        """Return the ids of albums that are quiet but not claimed yet (their replica died)."""
        found = await self._redis.eval(_DUE_LUA, 1, keys.ALBUMS_DUE, str(SWEEP_BATCH))  # type: ignore[misc]
        return [_text(album) for album in found]


class AlbumCollector:
    """Hands every album over once it has been quiet for the store's `wait_s`.

    The tasks kept here are only timers: losing them (a replica dying) loses no photo, since the
    album is in Redis and the next sweep of any replica claims it.
    """

    def __init__(self, store: AlbumStore, handler: BatchHandler) -> None:
        self._store = store
        self._handler = handler
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._handling: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def add(self, chat: ChatRef, photo: Photo, language: str = "") -> None:
        """Add a photo of an album; its quiet window starts again."""
        album = await self._store.append(chat, photo, language)
        self.start()
        if album not in self._watchers:
            self._watchers[album] = asyncio.create_task(self._watch(album))

    def start(self) -> None:
        """Start sweeping for albums other replicas left behind (again after `drain`)."""
        if self._sweeper is None or self._sweeper.done():
            self._stop = asyncio.Event()
            self._sweeper = asyncio.create_task(self._sweep_forever(self._stop))

    async def sweep(self) -> None:
        """Claim every quiet album nobody claimed and hand each one over."""
        for album in await self._store.due():
            claimed = await self._store.claim(album)
            if isinstance(claimed, Album):
                self._hand_over(claimed)

    async def drain(self) -> None:
        """Stop sweeping, then wait for every album this replica saw or claimed to be handled."""
        if self._sweeper is not None:  # stopped between sweeps: a claimed album is never dropped
            self._stop.set()
            await self._sweeper
            self._sweeper = None
        while self._watchers or self._handling:
            tasks = [*self._watchers.values(), *self._handling]
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _watch(self, album: str) -> None:
        """Wait out the album's quiet window, however often it moves, then claim it."""
        try:
            wait_s = self._store.wait_s
            while True:
                await asyncio.sleep(wait_s)
                claimed = await self._store.claim(album)
                if claimed is None:  # another replica claimed it
                    return
                if isinstance(claimed, Album):
                    self._hand_over(claimed)
                    return
                wait_s = claimed
        finally:
            self._watchers.pop(album, None)

    def _hand_over(self, album: Album) -> None:
        # Registered before the watcher ends, so `drain` never sees a gap between the two.
        task = asyncio.create_task(self._handle(album))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def _handle(self, album: Album) -> None:
        try:
            await self._handler(album.chat, album.photos, album.language)
        except Exception:  # the handler answers the person itself; this only keeps the log
            log.exception("an album's handler failed")

    async def _sweep_forever(self, stop: asyncio.Event) -> None:
        every_s = max(self._store.wait_s, 0.5)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)
                return
            try:
                await self.sweep()
            except Exception:  # Redis restarting: the albums wait there for the next sweep
                log.exception("album sweep failed; trying again")


def _encode(chat: ChatRef, photo: Photo, language: str) -> bytes:
    head = {"platform": chat.platform, "chat_id": chat.chat_id, "user_id": chat.user_id,
            "language": language, "file_id": photo.file_id, "file_name": photo.file_name,
            "group_id": photo.group_id}  # fmt: skip
    return json.dumps(head).encode() + b"\n" + photo.data


def _decode(entries: Sequence[bytes]) -> Album:
    heads, photos = [], []
    for entry in entries:
        raw, _, data = entry.partition(b"\n")
        head = json.loads(raw)
        heads.append(head)
        photos.append(Photo(data, head["file_id"], head["file_name"], head["group_id"]))
    first = heads[0]
    chat = ChatRef(first["platform"], first["chat_id"], first["user_id"])
    return Album(chat, first["language"], tuple(photos))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
