"""In-memory twin of the Redis state store, for the console bot and fast unit tests.

Same contract, one process: operations run without awaiting in between, so the event loop makes
each of them atomic. Values are copied through JSON so callers cannot mutate stored documents.
"""

from __future__ import annotations

import json
import time

from storage.state import JsonDict, Updater


class MemoryStateStore:
    """Documents and sets in dicts, with lazy expiry on a monotonic clock."""

    def __init__(self) -> None:
        self._docs: dict[str, str] = {}
        self._sets: dict[str, set[str]] = {}
        self._expiry: dict[str, float] = {}

    async def get(self, key: str) -> JsonDict | None:
        self._expire(key)
        raw = self._docs.get(key)
        return None if raw is None else dict(json.loads(raw))

    async def put(self, key: str, value: JsonDict, ttl_s: int | None = None) -> None:
        self._sets.pop(key, None)
        self._docs[key] = json.dumps(value)
        self._set_ttl(key, ttl_s)

    async def set_if_absent(self, key: str, value: JsonDict, ttl_s: int | None = None) -> bool:
        if await self._exists(key):
            return False
        await self.put(key, value, ttl_s)
        return True

    async def update(self, key: str, fn: Updater, ttl_s: int | None = None) -> JsonDict | None:
        new = fn(await self.get(key))
        if new is None:
            await self.delete(key)
        else:
            await self.put(key, new, ttl_s)
        return new

    async def delete(self, *keys: str) -> int:
        count = 0
        for key in keys:
            self._expire(key)
            found = self._docs.pop(key, None) is not None or self._sets.pop(key, None) is not None
            self._expiry.pop(key, None)
            count += found
        return count

    async def index_add(self, key: str, *members: str, ttl_s: int | None = None) -> None:
        self._expire(key)
        self._docs.pop(key, None)
        self._sets.setdefault(key, set()).update(members)
        if ttl_s is not None:
            self._set_ttl(key, ttl_s)

    async def index_remove(self, key: str, *members: str) -> None:
        self._expire(key)
        current = self._sets.get(key, set())
        current.difference_update(members)
        if not current:
            await self.delete(key)

    async def index_members(self, key: str) -> set[str]:
        self._expire(key)
        return set(self._sets.get(key, set()))

    async def keys(self, prefix: str) -> list[str]:
        for key in list(self._expiry):
            self._expire(key)
        return sorted(key for key in [*self._docs, *self._sets] if key.startswith(prefix))

    async def close(self) -> None:
        return None

    async def _exists(self, key: str) -> bool:
        self._expire(key)
        return key in self._docs or key in self._sets

    def _set_ttl(self, key: str, ttl_s: int | None) -> None:
        if ttl_s is None:
            self._expiry.pop(key, None)
        else:
            self._expiry[key] = time.monotonic() + ttl_s

    def _expire(self, key: str) -> None:
        deadline = self._expiry.get(key)
        if deadline is not None and time.monotonic() >= deadline:
            self._docs.pop(key, None)
            self._sets.pop(key, None)
            del self._expiry[key]
