"""The state store: sessions, job records and per-person indexes, as JSON documents with TTLs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

JsonDict = dict[str, Any]
Updater = Callable[[JsonDict | None], JsonDict | None]
"""Receives the current document (None if absent) and returns the new one (None deletes it)."""


class StateStore(Protocol):
    """Key -> JSON document store, plus string sets used as indexes."""

    async def get(self, key: str) -> JsonDict | None:
        """Return the document under `key`, or None."""

    async def put(self, key: str, value: JsonDict, ttl_s: int | None = None) -> None:
        """Store `value`, replacing what was there; `ttl_s` makes it expire."""

    async def set_if_absent(self, key: str, value: JsonDict, ttl_s: int | None = None) -> bool:
        """Store `value` only if `key` is free; return whether it was stored."""

    async def update(self, key: str, fn: Updater, ttl_s: int | None = None) -> JsonDict | None:
        """Apply `fn` to the document atomically, retrying on a concurrent write."""

    async def delete(self, *keys: str) -> int:
        """Delete documents or indexes; return how many existed."""

    async def index_add(self, key: str, *members: str, ttl_s: int | None = None) -> None:
        """Add members to the set under `key`."""

    async def index_remove(self, key: str, *members: str) -> None:
        """Remove members from the set under `key`."""

    async def index_members(self, key: str) -> set[str]:
        """Return the members of the set under `key`."""

    async def keys(self, prefix: str) -> list[str]:
        """Return the sorted keys (documents and indexes) that start with `prefix`."""

    async def close(self) -> None:
        """Release connections."""
