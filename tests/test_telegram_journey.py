"""End to end in Telegram: the real PTB client against our fake Bot API server, a real
redis-server, the real quality gate in its process pool, and a real worker process running the
queue with the fast stand-in studio."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from PIL import ImageOps
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from bot.text import messages
from bot.text.i18n import t
from core.settings import Settings
from engine.jobs.records import open_state
from engine.jobs.retention import RetentionPolicy, sweep
from storage.blobs_open import open_blob_store
from storage.keys import user_scope
from tests import photos
from tests.fake_telegram import FakeTelegram, Sent
from tests.queue_harness import running_bot, telegram_settings, worker_process

USER = 777


@pytest.fixture
def bot_settings(tmp_path: Path, redis_url: str, telegram: FakeTelegram) -> Settings:
    return telegram_settings(tmp_path, redis_url, telegram)


@pytest.fixture
def worker(bot_settings: Settings, tmp_path: Path) -> Iterator[None]:
    with worker_process(bot_settings, tmp_path):
        yield


def _good_selfies() -> list[bytes]:
    face = photos.astronaut()
    return [photos.to_bytes(face), photos.to_bytes(ImageOps.mirror(face))]


def _is_pack(sent: Sent) -> bool:
    return sent.photos > 0 and "instant" not in sent.text


def _pack(tg: FakeTelegram) -> list[Sent]:
    return [s for s in tg.sent if _is_pack(s)]


def _text_has(fragment: str) -> object:
    return lambda sent: fragment in sent.text


async def _consent(tg: FakeTelegram, since: int = 0) -> None:
    tg.send_text(USER, "/start")
    await tg.wait_for(_text_has("I agree"), since=since)
    tg.press(USER, "consent")
    await tg.wait_for(_text_has("describe you"), since=since)
    tg.press(USER, "subject:woman")
    await tg.wait_for(_text_has("Checklist"), since=since)


async def test_everything_but_photos_gets_a_friendly_answer(
    telegram: FakeTelegram, bot_settings: Settings
) -> None:
    async with running_bot(bot_settings):
        telegram.send_sticker(USER)
        await telegram.wait_for(_text_has("I agree"))  # nothing stored before consent
        before = len(telegram.sent)
        telegram.send_photo(USER, _good_selfies()[0])
        await telegram.wait_for(_text_has("please read the notice"), since=before)
        assert telegram.calls["getFile"] == 0, "a photo sent before consent was fetched"
        await _consent(telegram)
        cases = [
            (lambda: telegram.send_text(USER, "hello?"), "waiting for selfies"),
            (lambda: telegram.send_sticker(USER), "Nice sticker"),
            (lambda: telegram.send_document(USER, b"%PDF-1.4", "application/pdf", "cv.pdf"),
             "isn't an image"),
            (lambda: telegram.send_document(USER, b"x", "image/jpeg", "big.jpg", size=30_000_000),
             "30 MB is more than I can download"),
            (lambda: telegram.send_text(USER, "/frobnicate"), "I don't know /frobnicate"),
            (lambda: telegram.send_text(USER, "/privacy"), "until 24 h after your pack ends"),
            (lambda: telegram.send_text(USER, "/done"), "2 more good selfie"),
        ]  # fmt: skip
        for act, expected in cases:
            before = len(telegram.sent)
            act()
            await telegram.wait_for(_text_has(expected), since=before)
    assert not any("Traceback" in text or "went wrong" in text for text in telegram.texts(USER))


async def test_album_gets_one_consolidated_reply(
    telegram: FakeTelegram, bot_settings: Settings
) -> None:
    good = _good_selfies()
    async with running_bot(bot_settings):
        await _consent(telegram)
        before = len(telegram.sent)
        telegram.send_photo(USER, good[0], group_id="album1")
        telegram.send_photo(USER, photos.to_bytes(photos.chelsea()), group_id="album1")
        telegram.send_photo(USER, b"not an image at all", group_id="album1")
        reply = await telegram.wait_for(_text_has("so far"))
        await asyncio.sleep(0.5)  # any stray per-photo reply would arrive by now
    verdicts = [s for s in telegram.sent[before:] if "so far" in s.text]
    assert len(verdicts) == 1
    lines = reply.text.splitlines()
    assert lines[0].startswith("✅ Photo 1")
    assert lines[1].startswith("❌ Photo 2")
    assert lines[2].startswith("❌ Photo 3")
    assert "1 good photo so far" in reply.text


async def test_happy_path_delivers_the_pack_once(
    telegram: FakeTelegram, bot_settings: Settings, worker: None
) -> None:
    async with running_bot(bot_settings):
        await _consent(telegram)
        start = await _order_pack(telegram)
        telegram.press(USER, start)
        telegram.press(USER, start)  # a double tap
        await telegram.wait_for(_is_pack, timeout_s=60)
        offer = await telegram.wait_for(_text_has("full-resolution files"))
        telegram.press(USER, offer.buttons[0][0]["callback_data"])
        files = await telegram.wait_for(lambda s: s.documents > 0)
        await asyncio.sleep(1.0)
    assert files.documents == 4
    assert sum(s.photos for s in _pack(telegram)) == 4
    retouch = [s for s in telegram.sent if s.method == "sendPhoto" and "instant" in s.text]
    assert len(retouch) == 1
    assert telegram.sent.index(retouch[0]) < telegram.sent.index(_pack(telegram)[0])
    edits = [s for s in telegram.sent if s.method == "editMessageText"]
    assert edits, "the progress message was never edited"
    texts = [s.text for s in edits]
    assert all(a != b for a, b in itertools.pairwise(texts))


async def _order_pack(tg: FakeTelegram, since: int = 0) -> str:
    """Send two good selfies, pick one style and 4 per style; return the Start button's data."""
    for selfie in _good_selfies():
        tg.send_photo(USER, selfie)
    return await _choose_and_confirm(tg, since)


async def _choose_and_confirm(tg: FakeTelegram, since: int = 0) -> str:
    """Continue from two good selfies to the confirmation; return the Start button's data."""
    await tg.wait_for(_text_has("2 good photos"), since=since)
    tg.press(USER, "continue")
    menu = await tg.wait_for(_text_has("Pick up to"), since=since)
    tg.press(USER, menu.buttons[0][0]["callback_data"])
    await tg.wait_for(lambda s: any("✓" in b["text"] for r in s.buttons for b in r), since=since)
    tg.press(USER, "styles:done")
    await tg.wait_for(_text_has("How many"), since=since)
    tg.press(USER, "size:4")
    confirm = await tg.wait_for(_text_has("Ready to make your pack"), since=since)
    return str(confirm.buttons[0][0]["callback_data"])


async def test_restarts_lose_nothing_and_deliver_once(
    telegram: FakeTelegram, bot_settings: Settings, tmp_path: Path
) -> None:
    good = _good_selfies()
    with worker_process(bot_settings, tmp_path, STANDIN_STEP_S="0.1"):
        async with running_bot(bot_settings):
            await _consent(telegram)
            telegram.send_photo(USER, good[0])
            await telegram.wait_for(_text_has("1 good photo"))
        async with running_bot(bot_settings):  # a restart between photos
            telegram.send_photo(USER, good[1])
            telegram.press(USER, await _choose_and_confirm(telegram))
            await telegram.wait_for(_text_has("In the queue"))
        await asyncio.sleep(6)  # the bot is down while the worker finishes the pack
        assert not _pack(telegram)
        async with running_bot(bot_settings):  # a restart between enqueue and delivery
            await telegram.wait_for(_is_pack, timeout_s=60)
            await asyncio.sleep(1.5)
    assert sum(s.photos for s in _pack(telegram)) == 4
    assert len([t for t in telegram.texts(USER) if t.startswith("✅ Photo")]) == 2


async def test_429_storm_during_progress_still_delivers(
    telegram: FakeTelegram, bot_settings: Settings, tmp_path: Path
) -> None:
    telegram.fail_with_429["editMessageText"] = 3
    telegram.fail_with_429["sendMediaGroup"] = 1
    with worker_process(bot_settings, tmp_path, STANDIN_STEP_S="0.05"):
        async with running_bot(bot_settings):
            await _consent(telegram)
            telegram.press(USER, await _order_pack(telegram))
            await telegram.wait_for(_is_pack, timeout_s=60)
            await asyncio.sleep(1.0)
    assert telegram.fail_with_429["editMessageText"] == 0  # the storm really happened
    assert sum(s.photos for s in _pack(telegram)) == 4


async def test_cancel_during_training_and_one_pack_at_a_time(
    telegram: FakeTelegram, bot_settings: Settings, tmp_path: Path
) -> None:
    with worker_process(bot_settings, tmp_path, STANDIN_STEP_S="0.5"):
        async with running_bot(bot_settings):
            await _consent(telegram)
            telegram.press(USER, await _order_pack(telegram))
            await telegram.wait_for(_text_has("In the queue"))
            before = len(telegram.sent)
            telegram.send_text(USER, "/new")
            await telegram.wait_for(_text_has("already being made"), since=before)
            await telegram.wait_for(_text_has("Learning your face"), timeout_s=30)
            telegram.send_text(USER, "/status")
            await telegram.wait_for(
                lambda s: s.method == "sendMessage" and "Learning your face" in s.text
            )
            telegram.send_text(USER, "/cancel")
            await telegram.wait_for(_text_has("Stop making your pack?"))
            telegram.press(USER, "cancel:yes")
            await telegram.wait_for(_text_has("Stopping your pack"))
            await telegram.wait_for(_text_has("Nothing from this pack was kept"), timeout_s=30)
            before = len(telegram.sent)
            telegram.send_text(USER, "/status")  # says how the pack ended, not "finished"
            await telegram.wait_for(_text_has("Your last pack was cancelled"), since=before)
            before = len(telegram.sent)
            telegram.send_text(USER, "/new")
            await telegram.wait_for(_text_has("Checklist"), since=before)
    assert not _pack(telegram)


async def test_delete_erases_everything_of_one_person_only(
    telegram: FakeTelegram, bot_settings: Settings, worker: None, redis_url: str
) -> None:
    other = USER + 1
    async with running_bot(bot_settings):
        await _consent(telegram)
        telegram.press(USER, await _order_pack(telegram))
        await telegram.wait_for(_is_pack, timeout_s=60)
        [job_id] = [k.removeprefix("hs:job:") for k in _redis_keys(redis_url) if "hs:job:" in k]
        telegram.send_text(other, "/start")
        telegram.press(other, "consent")
        telegram.press(other, "subject:man")
        telegram.send_photo(other, _good_selfies()[0])
        await telegram.wait_for(lambda s: s.chat_id == other and "1 good photo" in s.text)
        telegram.send_text(USER, "/delete")
        await telegram.wait_for(_text_has("Erase everything"))
        telegram.press(USER, "delete:yes")
        done = await telegram.wait_for(_text_has("Nothing of you is left"))
    assert "history of 1 pack" in done.text
    mine, theirs = user_scope("telegram", USER), user_scope("telegram", other)
    keys = _redis_keys(redis_url)
    assert not _traces(keys, mine, job_id), keys
    assert any(theirs in key for key in keys), "the other person's session survives"
    root = bot_settings.local_storage_root()
    files = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    assert files
    assert all(f.startswith(f"{theirs}/") for f in files), files
    assert _folders_of(root, mine) == []  # no empty folder naming the person, a job or a style


async def test_delete_while_queued_leaves_no_marker_and_keeps_the_daily_limit(
    telegram: FakeTelegram, bot_settings: Settings, redis_url: str
) -> None:
    settings = bot_settings.model_copy(update={"packs_per_day": 1})
    async with running_bot(settings):  # no worker: the pack stays queued
        await _consent(telegram)
        telegram.press(USER, await _order_pack(telegram))
        await telegram.wait_for(lambda s: s.method == "sendPhoto", timeout_s=60)  # retouch
        [job_id] = [k.removeprefix("hs:job:") for k in _redis_keys(redis_url) if "hs:job:" in k]
        telegram.send_text(USER, "/delete")
        await telegram.wait_for(_text_has("Erase everything"))
        telegram.press(USER, "delete:yes")
        await telegram.wait_for(_text_has("Nothing of you is left"))
        await asyncio.sleep(1.0)  # the notifier has read whatever the cancel published
        mine = user_scope("telegram", USER)
        keys = _redis_keys(redis_url)
        assert not _traces(keys, mine, job_id), keys
        assert not _traces(keys, str(USER), job_id), keys
        assert _folders_of(settings.local_storage_root(), mine) == []
        since = len(telegram.sent)
        await _consent(telegram, since)  # a new start after /delete...
        telegram.press(USER, await _order_pack(telegram, since))
        await telegram.wait_for(_text_has("daily limit"), since=since)  # ...is today's second


async def test_private_deployment_answers_strangers_politely(
    telegram: FakeTelegram, bot_settings: Settings
) -> None:
    private = bot_settings.model_copy(update={"allowed_users": [f"telegram:{USER}"]})
    async with running_bot(private):
        telegram.send_text(USER + 5, "/start")
        await telegram.wait_for(_text_has("private headshot studio"))
        await _consent(telegram)  # the allowed person goes on as usual


async def test_nobody_reaches_another_persons_pack(
    telegram: FakeTelegram, bot_settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    intruder = USER + 9
    with worker_process(bot_settings, tmp_path, STANDIN_STEP_S="0.2"):
        async with running_bot(bot_settings):
            await _consent(telegram)
            start = await _order_pack(telegram)
            telegram.press(USER, start)
            await telegram.wait_for(_text_has("In the queue"))
            job_ids = [k.decode() for k in SyncRedis.from_url(redis_url).scan_iter("hs:job:*")]
            assert len(job_ids) == 1
            job_id = job_ids[0].removeprefix("hs:job:")
            # The intruder, with a conversation of their own, replays the victim's buttons and
            # names the victim's job.
            telegram.send_text(intruder, "/start")
            telegram.forge_press(intruder, "consent")
            telegram.forge_press(intruder, "subject:man")
            await telegram.wait_for(lambda s: s.chat_id == intruder and "Checklist" in s.text)
            forged = [start, f"files:{job_id}", "cancel:yes", "delete:yes", "styles:done"]
            for data in forged:
                telegram.forge_press(intruder, data)
            telegram.send_text(intruder, f"/cancel {job_id}")
            await telegram.wait_for(
                lambda s: s.chat_id == intruder and "Nothing is running" in s.text
            )
            await telegram.wait_for(_is_pack, timeout_s=60)
            await asyncio.sleep(1.0)
    victim = [s for s in telegram.sent if s.chat_id == USER]
    assert sum(s.photos for s in victim if _is_pack(s)) == 4
    intruder_saw = [s for s in telegram.sent if s.chat_id == intruder]
    assert not any(s.photos or s.documents for s in intruder_saw)
    assert not any("Stopping" in s.text or "erased" in s.text for s in intruder_saw)


async def test_without_a_worker_the_person_is_told_and_still_gets_the_retouch(
    telegram: FakeTelegram, bot_settings: Settings
) -> None:
    async with running_bot(bot_settings):
        await _consent(telegram)
        telegram.press(USER, await _order_pack(telegram))
        # Said once, in plain words, on the progress message; no host instruction to a person.
        told = await telegram.wait_for(_text_has(t(messages.NO_WORKER_NOTE)))
        assert "headshots worker" not in told.text
        retouch = await telegram.wait_for(lambda s: s.method == "sendPhoto", timeout_s=60)
    assert "instant studio retouch of photo 1" in retouch.text


async def test_retention_sweep_leaves_nothing_after_the_promised_time(
    telegram: FakeTelegram, bot_settings: Settings, worker: None, redis_url: str
) -> None:
    async with running_bot(bot_settings):
        await _consent(telegram)
        telegram.press(USER, await _order_pack(telegram))
        await telegram.wait_for(_is_pack, timeout_s=60)
        await asyncio.sleep(1.0)
    [job_id] = [k.removeprefix("hs:job:") for k in _redis_keys(redis_url) if "hs:job:" in k]
    scope = user_scope("telegram", USER)
    state, redis = open_state(redis_url), Redis.from_url(redis_url)
    blobs = open_blob_store(bot_settings)
    policy = RetentionPolicy.from_settings(bot_settings)
    soon = await sweep(state, blobs, redis, policy, now=time.time() + 3600)
    assert soon.private_blobs == 0  # within the grace period nothing goes
    later = await sweep(state, blobs, redis, policy, now=time.time() + 8 * 86400)
    await redis.aclose()
    await state.close()
    assert later.private_blobs > 0
    assert later.result_blobs == 5  # four headshots and their manifest
    assert not _traces(_redis_keys(redis_url), scope, job_id), _redis_keys(redis_url)
    assert await blobs.list_keys(f"{scope}/") == []
    assert _folders_of(bot_settings.local_storage_root(), scope) == []


_Entries = list[tuple[bytes, dict[bytes, bytes]]]


def _redis_keys(url: str) -> list[str]:
    """Return every key, every set member and every stream entry's fields, as text."""
    client = SyncRedis.from_url(url)
    keys = [key.decode() for key in client.scan_iter("*")]
    sets = [key for key in keys if client.type(key) == b"set"]
    members = [member.decode() for key in sets for member in cast(set[bytes], client.smembers(key))]
    streams = [key for key in keys if client.type(key) == b"stream"]
    ranges = {key: cast(_Entries, client.xrange(key)) for key in streams}
    entries = [f"{key} {fields!r}" for key, found in ranges.items() for _, fields in found]
    client.close()
    return keys + members + entries


def _folders_of(root: Path, scope: str) -> list[str]:
    """Return every file and folder left of the person in the local blob store."""
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if scope in p.as_posix()]


def _traces(keys: list[str], scope: str, job_id: str) -> list[str]:
    return [key for key in keys if scope in key or job_id in key]
