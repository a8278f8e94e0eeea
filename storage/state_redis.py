"""State store on Redis: JSON strings and sets, optimistic WATCH/MULTI for read-modify-write."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import WatchError

from core.errors import StorageError
from storage.state import JsonDict, Updater

_MAX_UPDATE_TRIES = 200  # a hot key under heavy contention still finishes; see test_state


class RedisStateStore:
    """Documents under `namespace + key` in one Redis database."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._ns = namespace

    @classmethod
    def from_url(cls, url: str, namespace: str, **options: Any) -> RedisStateStore:
        """Connect lazily to the Redis at `url`; `options` go to redis-py (a retry policy)."""
        return cls(Redis.from_url(url, decode_responses=True, **options), namespace)

    async def get(self, key: str) -> JsonDict | None:
        raw = await self._redis.get(self._ns + key)
        return _load(raw)

    async def put(self, key: str, value: JsonDict, ttl_s: int | None = None) -> None:
        await self._redis.set(self._ns + key, json.dumps(value), ex=ttl_s)

    async def set_if_absent(self, key: str, value: JsonDict, ttl_s: int | None = None) -> bool:
        stored = await self._redis.set(self._ns + key, json.dumps(value), ex=ttl_s, nx=True)
        return bool(stored)

    async def update(self, key: str, fn: Updater, ttl_s: int | None = None) -> JsonDict | None:
        name = self._ns + key
        async with self._redis.pipeline(transaction=True) as pipe:
            for _ in range(_MAX_UPDATE_TRIES):
                try:
                    await pipe.watch(name)
                    new = fn(_load(await pipe.get(name)))
                    pipe.multi()  # type: ignore[no-untyped-call]
                    if new is None:
                        pipe.delete(name)
                    else:
                        pipe.set(name, json.dumps(new), ex=ttl_s)
                    await pipe.execute()
                    return new
                except WatchError:
                    continue  # someone wrote between WATCH and EXEC: read again
        raise StorageError(f"state key {key!r} stayed contended for {_MAX_UPDATE_TRIES} tries")

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self._redis.delete(*(self._ns + key for key in keys)))

    async def index_add(self, key: str, *members: str, ttl_s: int | None = None) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(self._ns + key, *members)
            if ttl_s is not None:
                pipe.expire(self._ns + key, ttl_s)
            await pipe.execute()

    async def index_remove(self, key: str, *members: str) -> None:
        if members:
            await cast(Awaitable[int], self._redis.srem(self._ns + key, *members))

    async def index_members(self, key: str) -> set[str]:
        members = cast(Awaitable[set[str]], self._redis.smembers(self._ns + key))
        return set(await members)

    async def keys(self, prefix: str) -> list[str]:
        pattern = _glob_escape(self._ns + prefix) + "*"
        found = [name async for name in self._redis.scan_iter(match=pattern, count=500)]
        return sorted(name.removeprefix(self._ns) for name in found)

    async def close(self) -> None:
        await self._redis.aclose()


def _load(raw: str | None) -> JsonDict | None:
    if raw is None:
        return None
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise StorageError("state document is not a JSON object")
    return value


def _glob_escape(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
