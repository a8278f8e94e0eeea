"""The tiers in Discord, end to end: the real discord.py client against our fake Discord, a real
redis-server and a real worker process with both backends. Express on the tiny FLUX.2 klein; the
upgrade on the stand-ins of both tiers, erased with /delete while its studio pack trains."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from PIL import ImageOps
from redis import Redis as SyncRedis

from bot.fronts.discord import front as discord_front
from bot.host import serve
from core.settings import Settings
from engine.studio.tiny_flux2 import write_tiny_flux2_klein
from storage.keys import user_scope
from tests import photos
from tests.fake_discord import TOKEN, FakeDiscord, Sent
from tests.queue_harness import queue_settings, worker_process

USER = 991
EXPRESS_TINY = "engine.studio.express.backend:load_express_studio"
EXPRESS_STANDIN = "tests.standin_studio:load_standin_express"


@pytest.fixture(scope="module")
def klein(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_flux2_klein(tmp_path_factory.mktemp("klein") / "model")


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    yield fake
    await fake.stop()


def _settings(tmp_path: Path, redis_url: str, dc: FakeDiscord, **extra: object) -> Settings:
    return queue_settings(
        tmp_path, redis_url,
        discord_token=TOKEN, discord_api_base=dc.api_base, discord_gateway_url=dc.gateway_url,
        discord_guild_id=1234, min_selfies=2, max_selfies=4, gate_workers=1, album_wait_s=0.3,
        **extra,
    )  # fmt: skip


@asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, [discord_front.open_front], stop))
    try:
        yield
    finally:
        stop.set()
        await task


def _has(fragment: str) -> Callable[[Sent], bool]:
    return lambda sent: fragment in sent.text


def _is_pack(sent: Sent) -> bool:
    return sent.photos > 0 and "instant" not in sent.text


def _express(sent: Sent) -> bool:
    return _is_pack(sent) and "Express · " in sent.text


async def _order(dc: FakeDiscord, tier: str) -> Sent:
    """Consent, send two selfies, pick a style, 4 images and `tier`, press Start."""
    dc.slash(USER, "start")
    await dc.wait_for(_has("I agree"))
    dc.press(USER, "consent")
    await dc.wait_for(_has("describe you"))
    dc.press(USER, "subject:woman")
    await dc.wait_for(_has("Checklist"))
    face = photos.astronaut()
    selfies = [photos.to_bytes(face), photos.to_bytes(ImageOps.mirror(face))]
    dc.send_files(USER, [(f"me{n}.jpg", "image/jpeg", data) for n, data in enumerate(selfies)])
    await dc.wait_for(_has("2 good photos"), timeout_s=60)
    dc.press(USER, "continue")
    menu = await dc.wait_for(_has("Pick up to"))
    dc.press(USER, menu.buttons[0][0]["custom_id"].removeprefix("hs:"))
    await dc.wait_for(lambda s: any("✓" in b["label"] for row in s.buttons for b in row))
    dc.press(USER, "styles:done")
    await dc.wait_for(_has("How many"))
    dc.press(USER, "size:4")
    await dc.wait_for(_has("How should I make it?"))
    dc.press(USER, f"tier:{tier}")
    confirm = await dc.wait_for(_has("Ready to make your pack"))
    dc.press(USER, str(confirm.buttons[0][0]["custom_id"].removeprefix("hs:")))
    return confirm


async def test_express_on_the_tiny_klein_in_discord(
    tmp_path: Path, redis_url: str, discord: FakeDiscord, klein: Path
) -> None:
    settings = _settings(tmp_path, redis_url, discord, express_studio=EXPRESS_TINY,
                         express_model=str(klein))  # fmt: skip
    with worker_process(settings, tmp_path, OMP_NUM_THREADS="1"):
        async with running_bot(settings):
            confirm = await _order(discord, "express")
            await discord.wait_for(_express, timeout_s=120)
            await discord.wait_for(_has("full-resolution files"))
            await asyncio.sleep(1.0)
    assert "express: made from your selfies directly" in confirm.text
    assert sum(s.photos for s in discord.sent if _is_pack(s)) == 4
    assert [s for s in discord.sent if s.method == "edit"], "progress was never edited"


async def test_delete_during_the_upgrades_studio_pack_leaves_nothing(
    tmp_path: Path, redis_url: str, discord: FakeDiscord
) -> None:
    settings = _settings(tmp_path, redis_url, discord, express_studio=EXPRESS_STANDIN)
    with worker_process(settings, tmp_path, STANDIN_STEP_S="0.4"):
        async with running_bot(settings):
            await _order(discord, "upgrade")
            await discord.wait_for(_express, timeout_s=90)
            await discord.wait_for(_has("Next: your studio pack"), timeout_s=30)
            await discord.wait_for(_has("Learning your face"), timeout_s=60)
            discord.slash(USER, "delete")
            await discord.wait_for(_has("Erase everything"))
            discord.press(USER, "delete:yes")
            await discord.wait_for(_has("Nothing of you is left"), timeout_s=30)
            await asyncio.sleep(2.0)
    assert sum(s.photos for s in discord.sent if _express(s)) == 4
    assert not [s for s in discord.sent if _is_pack(s) and not _express(s)]
    scope = user_scope("discord", USER)
    client = SyncRedis.from_url(redis_url)
    keys = [key.decode() for key in client.scan_iter("*")]
    client.close()
    assert not [k for k in keys if scope in k or k.startswith("hs:job:")], keys
    root = settings.local_storage_root()
    assert root is not None
    assert not [p for p in root.rglob("*") if p.is_file() and scope in str(p)]
