"""Album collection in Redis: one batch per album, whichever replica got its photos, and none
lost when the replica that got them dies. Against a real redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from redis.asyncio import Redis

from bot.chat.events import ChatRef, Photo
from bot.service.albums import Album, AlbumCollector, AlbumStore
from engine.jobs import keys
from tests.queue_harness import eventually

WAIT_S = 0.2
ALICE, BOB = ChatRef("telegram", "1", "1"), ChatRef("telegram", "2", "2")

Batch = tuple[str, str, list[str], str]  # replica, chat id, file ids, language


@pytest.fixture
async def clients(redis_url: str) -> AsyncIterator[list[Redis]]:
    """Two Redis connections, one per replica (as two processes would have)."""
    opened = [Redis.from_url(redis_url), Redis.from_url(redis_url)]
    yield opened
    for client in opened:
        await client.aclose()


def _recorder(name: str, batches: list[Batch]):  # type: ignore[no-untyped-def]
    async def handler(chat: ChatRef, photos: Sequence[Photo], language: str) -> None:
        batches.append((name, chat.chat_id, [p.file_id for p in photos], language))

    return handler


def _photo(file_id: str, group: str = "g1") -> Photo:
    return Photo(f"bytes of {file_id}\n\x00\xff".encode(), file_id, f"{file_id}.jpg", group)


async def test_album_photos_are_handled_together(clients: list[Redis]) -> None:
    batches: list[Batch] = []
    collector = AlbumCollector(AlbumStore(clients[0], WAIT_S), _recorder("a", batches))
    for n in range(4):
        await collector.add(ALICE, _photo(f"a{n}"), "de")
    await collector.add(BOB, _photo("b0"))
    await collector.add(ALICE, _photo("a-other", group="g2"))
    await collector.drain()
    assert sorted(batches) == [
        ("a", "1", ["a-other"], ""), ("a", "1", ["a0", "a1", "a2", "a3"], "de"),
        ("a", "2", ["b0"], ""),
    ]  # fmt: skip


async def test_photos_come_back_as_they_were_sent(clients: list[Redis]) -> None:
    store = AlbumStore(clients[0], WAIT_S)
    sent = _photo("p1")
    album = await store.append(ALICE, sent, "fr")
    assert await store.claim(album) == pytest.approx(WAIT_S, abs=0.05)  # not quiet yet
    await asyncio.sleep(WAIT_S)
    assert await store.claim(album) == Album(ALICE, "fr", (sent,))
    assert await store.claim(album) is None
    assert await clients[0].exists(keys.album_key(album), keys.ALBUMS_DUE) == 0


async def test_two_replicas_hand_one_album_over_once(clients: list[Redis]) -> None:
    """The album's photos reach the two replicas alternately: one batch of every photo."""
    batches: list[Batch] = []
    replicas = [
        AlbumCollector(AlbumStore(client, WAIT_S), _recorder(name, batches))
        for name, client in zip("ab", clients, strict=True)
    ]
    for n in range(6):
        await replicas[n % 2].add(ALICE, _photo(f"a{n}"))
        await asyncio.sleep(WAIT_S / 3)  # each photo moves the quiet window on
    await asyncio.gather(*(replica.drain() for replica in replicas))
    assert [files for _, _, files, _ in batches] == [[f"a{n}" for n in range(6)]]


async def test_many_claims_at_once_take_the_album_once(clients: list[Redis]) -> None:
    store = AlbumStore(clients[0], 0.01)
    album = await store.append(ALICE, _photo("p1"))
    await asyncio.sleep(0.05)
    stores = [AlbumStore(clients[n % 2], 0.01) for n in range(12)]
    claims = await asyncio.gather(*(other.claim(album) for other in stores))
    assert [type(claim).__name__ for claim in claims].count("Album") == 1
    assert claims.count(None) == 11


async def test_an_album_left_by_a_dead_replica_is_swept_by_another(clients: list[Redis]) -> None:
    """Replica A stored two photos and died before its timer ran; B's sweep hands them over."""
    dead = AlbumStore(clients[0], WAIT_S)  # only the store: nothing of A runs after this
    await dead.append(ALICE, _photo("a0"), "es")
    await dead.append(ALICE, _photo("a1"), "es")
    batches: list[Batch] = []
    survivor = AlbumCollector(AlbumStore(clients[1], WAIT_S), _recorder("b", batches))
    survivor.start()  # as ChatService.handle does on B's next update, of anyone

    async def handled() -> bool:
        return bool(batches)

    await eventually(handled, "the survivor's sweep", timeout_s=10)
    await survivor.drain()
    assert batches == [("b", "1", ["a0", "a1"], "es")]
    assert await clients[1].zcard(keys.ALBUMS_DUE) == 0
