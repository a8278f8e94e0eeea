"""DiscordSink against the fake Discord REST server with a real, logged-in discord.py client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from bot.chat.events import Button, ChatRef, Progress, Reply, SendAlbum, SendFiles
from bot.fronts.discord.front import point_at
from bot.fronts.discord.sink import DiscordSink
from core.settings import Settings
from storage.state_memory import MemoryStateStore
from tests import photos
from tests.fake_discord import TOKEN, FakeDiscord

CHAT = ChatRef("discord", "5001", "77")
LIMIT = 40_000  # bytes per file: far below the astronaut PNG, so every image must shrink


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def sink(discord_fake: FakeDiscord) -> AsyncIterator[DiscordSink]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, discord_api_base=discord_fake.api_base,
        discord_gateway_url=discord_fake.gateway_url,
    )  # fmt: skip
    point_at(settings)
    client = discord.Client(intents=discord.Intents.none())
    await client.login(TOKEN)
    yield DiscordSink(client, MemoryStateStore(), max_file_bytes=LIMIT)
    await client.close()


async def test_album_splits_into_messages_of_ten_within_the_file_limit(
    discord_fake: FakeDiscord, sink: DiscordSink
) -> None:
    png = photos.to_bytes(photos.astronaut(), "PNG")
    assert len(png) > LIMIT
    await sink.apply(CHAT, [SendAlbum((png,) * 12, caption="Office")])
    assert [s.photos for s in discord_fake.sent] == [10, 2]
    assert [s.text for s in discord_fake.sent] == ["Office", ""]
    assert all(0 < size <= LIMIT for s in discord_fake.sent for size in s.files)


async def test_progress_is_created_once_then_edited_and_unchanged_edits_skipped(
    discord_fake: FakeDiscord, sink: DiscordSink
) -> None:
    for text in ("Queued", "Queued", "Learning your face 10%", "Learning your face 10%"):
        await sink.apply(CHAT, [Progress("job1", text)])
    assert [(s.method, s.text) for s in discord_fake.sent] == [
        ("create", "Queued"),
        ("edit", "Learning your face 10%"),
    ]
    assert discord_fake.sent[0].message_id == discord_fake.sent[1].message_id


async def test_buttons_reflow_into_five_by_five_and_long_text_is_split(
    discord_fake: FakeDiscord, sink: DiscordSink
) -> None:
    rows = tuple((Button(f"Style {i}", f"style:{i}"),) for i in range(10))
    await sink.apply(CHAT, [Reply("x" * 2500 + "\n" + "y" * 100, rows)])
    first, last = discord_fake.sent
    assert len(first.text) <= 2000 and not first.buttons
    assert last.text.endswith("y" * 100)
    assert [len(row) for row in last.buttons] == [5, 5]
    assert last.buttons[1][4]["custom_id"] == "hs:style:9"


async def test_files_keep_their_names_in_messages_of_ten(
    discord_fake: FakeDiscord, sink: DiscordSink
) -> None:
    small = photos.to_bytes(photos.camera().resize((64, 64)), "PNG")
    files = tuple((f"office-{i:02d}.png", small) for i in range(11))
    await sink.apply(CHAT, [SendFiles(files, caption="Full resolution")])
    assert [s.photos for s in discord_fake.sent] == [10, 1]
    assert discord_fake.sent[0].text == "Full resolution"
    assert all(size == len(small) for s in discord_fake.sent for size in s.files)
    assert [name for s in discord_fake.sent for name in s.names] == [name for name, _ in files]
