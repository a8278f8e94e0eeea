"""One contract for the state store over real Redis and the in-memory twin."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from engine.jobs.records import open_state
from storage.state import JsonDict, StateStore
from storage.state_memory import MemoryStateStore


@pytest.fixture(params=["redis", "memory"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        store: StateStore = open_state(url)
    else:
        store = MemoryStateStore()
    yield store
    await store.close()


async def test_set_get_delete(state: StateStore) -> None:
    assert await state.get("s:1") is None
    await state.put("s:1", {"step": "consent", "n": 1})
    assert await state.get("s:1") == {"step": "consent", "n": 1}
    assert await state.delete("s:1", "s:missing") == 1
    assert await state.get("s:1") is None


async def test_returned_documents_are_copies(state: StateStore) -> None:
    await state.put("doc", {"photos": []})
    doc = await state.get("doc")
    assert doc is not None
    doc["photos"].append("x")
    assert await state.get("doc") == {"photos": []}


async def test_ttl_expires(state: StateStore) -> None:
    await state.put("short", {"a": 1}, ttl_s=1)
    assert await state.get("short") == {"a": 1}
    await asyncio.sleep(1.2)
    assert await state.get("short") is None


async def test_set_if_absent(state: StateStore) -> None:
    assert await state.set_if_absent("once", {"job": "a"}) is True
    assert await state.set_if_absent("once", {"job": "b"}) is False
    assert await state.get("once") == {"job": "a"}


async def test_update_creates_changes_and_deletes(state: StateStore) -> None:
    def bump(doc: JsonDict | None) -> JsonDict:
        return {"n": (doc or {"n": 0})["n"] + 1}

    assert await state.update("c", bump) == {"n": 1}
    assert await state.update("c", bump) == {"n": 2}
    assert await state.update("c", lambda _doc: None) is None
    assert await state.get("c") is None


async def test_no_lost_update_with_50_concurrent_updaters(state: StateStore) -> None:
    async def add_one(index: int) -> None:
        def append(doc: JsonDict | None) -> JsonDict:
            items = (doc or {"items": []})["items"]
            return {"items": [*items, index]}

        await asyncio.sleep(0)  # let all 50 start before any finishes
        await state.update("shared", append)

    await asyncio.gather(*(add_one(i) for i in range(50)))
    doc = await state.get("shared")
    assert doc is not None
    assert sorted(doc["items"]) == list(range(50))


async def test_index_operations(state: StateStore) -> None:
    await state.index_add("user:1:jobs", "j1", "j2")
    await state.index_add("user:1:jobs", "j2", "j3")
    assert await state.index_members("user:1:jobs") == {"j1", "j2", "j3"}
    await state.index_remove("user:1:jobs", "j1")
    assert await state.index_members("user:1:jobs") == {"j2", "j3"}
    await state.index_remove("user:1:jobs", "j2", "j3")
    assert await state.index_members("user:1:jobs") == set()
    assert await state.index_members("nobody") == set()


async def test_keys_by_prefix(state: StateStore) -> None:
    await state.put("user:1:session", {})
    await state.index_add("user:1:jobs", "j")
    await state.put("user:10:session", {})
    await state.put("user:2:session", {})
    assert await state.keys("user:1:") == ["user:1:jobs", "user:1:session"]
    assert await state.keys("user:*") == []  # glob characters are literal
