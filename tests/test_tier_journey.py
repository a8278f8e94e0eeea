"""The tiers in Telegram, end to end: the real PTB client against our fake Bot API, a real
redis-server and a real worker process with both backends loaded. Express runs on the tiny FLUX.2
klein; the upgrade (express now, studio after) on the fast stand-ins of both tiers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

import pytest
from PIL import ImageOps
from redis import Redis as SyncRedis

from core.settings import Settings
from engine.studio.tiny_flux2 import write_tiny_flux2_klein
from storage.keys import user_scope
from tests import photos
from tests.fake_telegram import TOKEN, FakeTelegram, Sent
from tests.ops_harness import is_pack, order_pack
from tests.queue_harness import queue_settings, running_bot, worker_process

USER = 4321
EXPRESS_TINY = "engine.studio.express.backend:load_express_studio"
EXPRESS_STANDIN = "tests.standin_studio:load_standin_express"


@pytest.fixture(scope="module")
def klein(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_flux2_klein(tmp_path_factory.mktemp("klein") / "model")


def _settings(tmp_path: Path, redis_url: str, tg: FakeTelegram, **extra: object) -> Settings:
    return queue_settings(
        tmp_path, redis_url,
        telegram_token=TOKEN, telegram_base_url=tg.base_url,
        telegram_base_file_url=tg.base_file_url,
        min_selfies=2, max_selfies=4, gate_workers=1, album_wait_s=0.3, **extra,
    )  # fmt: skip


def _selfies() -> list[bytes]:
    face = photos.astronaut()
    return [photos.to_bytes(face), photos.to_bytes(ImageOps.mirror(face))]


def _express(sent: Sent) -> bool:
    return is_pack(sent) and sent.text.startswith("Express · ")


def _studio(sent: Sent) -> bool:
    return is_pack(sent) and not sent.text.startswith("Express · ")


def _is_progress(text: str) -> bool:
    return text[:1] in {"⏳", "🔍", "🧠", "🎨", "🏅", "📦"}


def _has(fragment: str) -> object:
    return lambda sent: sent.chat_id == USER and fragment in sent.text


async def test_express_on_the_tiny_klein_is_delivered_once_and_named(
    tmp_path: Path, redis_url: str, telegram: FakeTelegram, klein: Path
) -> None:
    settings = _settings(tmp_path, redis_url, telegram, express_studio=EXPRESS_TINY,
                         express_model=str(klein))  # fmt: skip
    with worker_process(settings, tmp_path, OMP_NUM_THREADS="1"):
        async with running_bot(settings):
            confirm = await order_pack(telegram, USER, _selfies(), tier="express")
            await telegram.wait_for(_express, timeout_s=120)
            await telegram.wait_for(_has("full-resolution files"))
            await asyncio.sleep(1.0)  # a duplicate would arrive by now
    assert "express: made from your selfies directly" in confirm.text
    assert "4 headshots per style, 4 in all" in confirm.text
    assert sum(s.photos for s in telegram.sent if is_pack(s)) == 4
    assert not [s for s in telegram.sent if _studio(s)]
    progress = [s.text for s in telegram.sent if s.method == "editMessageText"]
    assert "Your express headshots are ready! ✅" in progress
    # Steps in between may be coalesced into the next edit; none may speak of training.
    assert not any("Learning your face" in t for t in progress), "express trains nothing"


async def test_the_upgrade_delivers_express_then_studio_each_once(
    tmp_path: Path, redis_url: str, telegram: FakeTelegram
) -> None:
    settings = _settings(tmp_path, redis_url, telegram, express_studio=EXPRESS_STANDIN)
    with worker_process(settings, tmp_path, STANDIN_STEP_S="0.05"):
        async with running_bot(settings):
            confirm = await order_pack(telegram, USER, _selfies(), tier="upgrade")
            await telegram.wait_for(_express, timeout_s=60)
            await telegram.wait_for(_has("Next: your studio pack"), timeout_s=30)
            await telegram.wait_for(_studio, timeout_s=60)
            await telegram.wait_for(_has("Your headshots are ready"))
            await asyncio.sleep(2.0)  # duplicates, or a third pack, would arrive by now
    assert "express first" in confirm.text and "then the studio pack" in confirm.text
    express = [s for s in telegram.sent if _express(s)]
    studio = [s for s in telegram.sent if _studio(s)]
    assert sum(s.photos for s in express) == 4 and sum(s.photos for s in studio) == 4
    assert telegram.sent.index(express[-1]) < telegram.sent.index(studio[0])
    progress = [s for s in telegram.sent if s.method == "sendMessage" and _is_progress(s.text)]
    assert len(progress) == 2, ("one progress message per pack", [s.text for s in progress])
    upgrades = [s for s in telegram.sent if "Next: your studio pack" in s.text]
    assert len(upgrades) == 1


async def test_cancel_during_the_upgrade_stops_the_studio_pack(
    tmp_path: Path, redis_url: str, telegram: FakeTelegram
) -> None:
    settings = _settings(tmp_path, redis_url, telegram, express_studio=EXPRESS_STANDIN)
    with worker_process(settings, tmp_path, STANDIN_STEP_S="0.4"):
        async with running_bot(settings):
            await order_pack(telegram, USER, _selfies(), tier="upgrade")
            await telegram.wait_for(_express, timeout_s=90)
            await telegram.wait_for(_has("Learning your face"), timeout_s=60)
            telegram.send_text(USER, "/cancel")
            await telegram.wait_for(_has("Stop making your pack?"))
            telegram.press(USER, "cancel:yes")
            await telegram.wait_for(_has("Nothing from this pack was kept"), timeout_s=30)
            await asyncio.sleep(1.0)
            await _delete(telegram)
    assert not [s for s in telegram.sent if _studio(s)]
    assert _leftovers(settings, redis_url) == []


async def test_delete_during_express_leaves_nothing_and_queues_no_studio_pack(
    tmp_path: Path, redis_url: str, telegram: FakeTelegram
) -> None:
    settings = _settings(tmp_path, redis_url, telegram, express_studio=EXPRESS_STANDIN)
    with worker_process(settings, tmp_path, STANDIN_STEP_S="0.4"):
        async with running_bot(settings):
            await order_pack(telegram, USER, _selfies(), tier="upgrade")
            await telegram.wait_for(_has("Choosing your best selfies"), timeout_s=60)
            await _delete(telegram)
            await asyncio.sleep(3.0)  # the express job's end, and any follow-up, by now
    assert not [s for s in telegram.sent if is_pack(s)]
    assert not [s for s in telegram.sent if "Next: your studio pack" in s.text]
    assert _leftovers(settings, redis_url) == []


async def _delete(tg: FakeTelegram) -> None:
    tg.send_text(USER, "/delete")
    await tg.wait_for(_has("Erase everything"))
    tg.press(USER, "delete:yes")
    await tg.wait_for(_has("Nothing of you is left"), timeout_s=30)


def _leftovers(settings: Settings, redis_url: str) -> list[str]:
    """Return every Redis key, set member and stored file that names the person."""
    scope = user_scope("telegram", USER)
    client = SyncRedis.from_url(redis_url)
    keys = [key.decode() for key in client.scan_iter("*")]
    jobs = {k.removeprefix("hs:job:") for k in keys if k.startswith("hs:job:")}
    sets = [key for key in keys if client.type(key) == b"set"]
    members = [m.decode() for key in sets for m in cast(set[bytes], client.smembers(key))]
    client.close()
    root = settings.local_storage_root()
    files = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()] if root else []
    named = [k for k in keys + members + files if scope in k or str(USER) in k]
    return named + sorted(jobs)
