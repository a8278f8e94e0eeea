"""The contact sheet in Telegram: keep, more like this, Done as a ZIP, /delete, replayed buttons.

The real PTB client against the fake Bot API, a real redis-server, the real gate in its pool and
a real worker process with the stand-in studio; plus the pure parts (layout, ZIP parts).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from redis import Redis as SyncRedis

from bot.chat.contact_sheet import MORE_LIKE_COUNT, SheetAlbum, controls, image_at, sheet_albums
from bot.service.zip_parts import zip_parts
from bot.text import files as names
from bot.text.i18n import speaking
from core import provenance
from core.settings import Settings
from engine.jobs import Done, StyleResult
from storage.keys import user_scope
from tests.fake_telegram import FakeTelegram, Sent
from tests.queue_harness import (
    running_bot,
    studio_calls,
    telegram_settings,
    worker_process,
)
from tests.test_telegram_journey import USER, _consent, _order_pack, _redis_keys, _text_has

AI = provenance.TRAINED_ALGORITHMIC_MEDIA
KIT = ["profile-avatar.jpg", "profile-signature.jpg", "profile-banner.png"]


@pytest.fixture
def bot_settings(tmp_path: Path, redis_url: str, telegram: FakeTelegram) -> Settings:
    return telegram_settings(tmp_path, redis_url, telegram)


def _data(sent: Sent) -> list[str]:
    return [button["callback_data"] for row in sent.buttons for button in row]


def _labels(sent: Sent) -> list[str]:
    return [button["text"] for row in sent.buttons for button in row]


def _sheet_of(job_id: str) -> object:
    return lambda sent: f"zip:{job_id}" in _data(sent)


def _job_of(sheet: Sent) -> str:
    return next(d for d in _data(sheet) if d.startswith("zip:")).removeprefix("zip:")


def _colour(png: bytes) -> tuple[int, ...]:
    with Image.open(io.BytesIO(png)) as image:
        pixel = image.convert("RGB").getpixel((0, 0))
        assert isinstance(pixel, tuple)
        return (*image.size, *pixel)


# ----- the pure parts ----------------------------------------------------------------------------


def test_an_album_of_ten_fits_discords_five_rows_of_five_and_telegrams_64_bytes() -> None:
    job_id = "pack-" + "a" * 24
    album = SheetAlbum(2, "corporate-grey", 11, tuple(f"k{n}" for n in range(10)))
    sheet = controls(job_id, album, {12}, {"corporate-grey": "Corporate grey"})
    assert len(sheet.buttons) <= 5 and all(len(row) <= 5 for row in sheet.buttons)
    labels = [b.label for row in sheet.buttons for b in row]
    assert "✅ 12" in labels and "⭐ 11" in labels and "⭐ 12" not in labels
    assert "🔁 20" in labels and "🎲 Re-roll Corporate grey" in labels
    assert all(len(b.data.encode()) <= 64 for row in sheet.buttons for b in row)
    assert "images 11-20" in sheet.text


def test_a_zip_over_the_limit_comes_in_parts_that_each_fit_and_open() -> None:
    files = [(f"{n:02d}.png", bytes([n]) * 40_000) for n in range(1, 8)]
    parts = zip_parts(files, limit_bytes=100_000)
    assert len(parts) == 4 and parts[0][0] == "headshots-part1-of-4.zip"
    names: list[str] = []
    for _, data in parts:
        assert len(data) <= 100_000
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names += archive.namelist()
            assert all(archive.read(n) == dict(files)[n] for n in archive.namelist())
    assert names == [name for name, _ in files]
    [(single, _)] = zip_parts(files[:2], limit_bytes=100_000)
    assert single == "headshots.zip"
    with speaking("de"):
        assert [name for name, _ in zip_parts(files, 100_000)][:1] == ["portraets-teil-1-von-4.zip"]


def test_a_rerolls_albums_number_on_from_where_its_pack_got_to() -> None:
    result = StyleResult("corporate-grey", tuple(f"k{n}" for n in range(12)))
    done = Done(job_id="pack-x", results=(result,))
    albums = sheet_albums(done, first=17)
    assert [list(a.numbers) for a in albums] == [list(range(17, 23)), list(range(23, 29))]
    assert image_at(done, 23, first=17) == (albums[1], "k6")
    assert image_at(done, 1, first=17) is None  # the pack's own image 1 is not the re-roll's
    assert image_at(done, 29, first=17) is None


def test_file_names_are_in_the_persons_language_and_plain_ascii() -> None:
    assert names.headshot(7, "Office window light") == "headshot-07-office-window-light.png"
    with speaking("fr"):
        assert (
            names.headshot(7, "Éditorial noir et blanc")
            == "portrait-07-editorial-noir-et-blanc.png"
        )
        assert names.kit_piece("banner", "png") == "profil-banniere.png"
        assert names.zip_name() == "portraits.zip"


# ----- journeys ---------------------------------------------------------------------------------


async def test_keep_two_more_like_one_then_done_and_delete_leaves_nothing(
    telegram: FakeTelegram, bot_settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    with worker_process(bot_settings, tmp_path):
        async with running_bot(bot_settings):
            await _consent(telegram)
            telegram.press(USER, await _order_pack(telegram))
            sheet = await telegram.wait_for(_text_has("images 1-4"), timeout_s=60)
            job = _job_of(sheet)
            telegram.press(USER, f"keep:{job}:1")
            await telegram.wait_for(lambda s: "✅ 1" in _labels(s))
            telegram.press(USER, f"keep:{job}:3")
            kept = await telegram.wait_for(lambda s: {"✅ 1", "✅ 3"} <= set(_labels(s)))
            assert kept.method == "editMessageText" and kept.message_id == sheet.message_id
            since = len(telegram.sent)
            telegram.press(USER, f"more:{job}:2")
            await telegram.wait_for(_text_has(f"Making {MORE_LIKE_COUNT} more like image 2"))
            more = await telegram.wait_for(
                lambda s: any(d.startswith("zip:") and d != f"zip:{job}" for d in _data(s)),
                timeout_s=60,
            )
            new_photos = sum(s.photos for s in telegram.sent[since:])
            telegram.press(USER, f"files:{job}")  # the pack's offer still works after a re-roll
            originals = await telegram.wait_for(lambda s: s.documents == 4, timeout_s=60)
            telegram.press(USER, f"zip:{job}")
            document = await telegram.wait_for(lambda s: "headshots.zip" in s.files, timeout_s=60)
            telegram.send_text(USER, "/delete")
            await telegram.wait_for(_text_has("Erase everything"))
            telegram.press(USER, "delete:yes")
            erased = await telegram.wait_for(_text_has("Nothing of you is left"))
            telegram.press(USER, f"keep:{job}:1")  # the old sheet, after /delete
            await telegram.wait_for(_text_has("no longer here"))
    assert new_photos == MORE_LIKE_COUNT
    assert originals.method == "sendMediaGroup"
    assert _job_of(more) != job
    # The re-roll's images go on from the pack's 4: one number names one image of the pack.
    assert "images 5-8" in more.text and "⭐ 5" in _labels(more)
    # The re-roll has its own progress line, and no second files offer (Done covers it).
    assert f"Your {MORE_LIKE_COUNT} new images are ready! ✅" in telegram.texts(USER)
    assert sum("full-resolution files" in t for t in telegram.texts(USER)) == 1
    [(name, data)] = document.files.items()
    assert name == "headshots.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        pictures = {n: archive.read(n) for n in names}
    assert len(names) == 2 + len(KIT) and names[2:] == KIT
    assert [n[:12] for n in names[:2]] == ["headshot-01-", "headshot-03-"]  # the sheet's numbers
    # The stand-in's first style renders image n as 32x32 (0, 30*(n-1), 200): 1 and 3 kept.
    assert [_colour(pictures[n]) for n in names[:2]] == [(32, 32, 0, 0, 200), (32, 32, 0, 60, 200)]
    assert _colour(pictures["profile-avatar.jpg"])[:2] == (800, 800)
    # Every generated picture in the ZIP says so; the drawn banner does not claim to be.
    sources = {n: provenance.source_of(pictures[n]) for n in names}
    assert sources == {**dict.fromkeys(names[:4], AI), "profile-banner.png": None}
    assert studio_calls(bot_settings).count("personalize") == 1  # the re-roll did not train
    assert "history of 2 pack(s)" in erased.text
    scope = user_scope("telegram", USER)
    jobs = {job, _job_of(more)}
    traces = [k for k in _redis_keys(redis_url) if scope in k or any(j in k for j in jobs)]
    assert not traces, traces
    root = bot_settings.local_storage_root()
    assert not [p for p in root.rglob("*") if p.is_file()]


async def test_replayed_sheet_buttons_of_another_person_reach_nothing(
    telegram: FakeTelegram, bot_settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    intruder, stranger = USER + 9, USER + 10
    with worker_process(bot_settings, tmp_path):
        async with running_bot(bot_settings):
            await _consent(telegram)
            telegram.press(USER, await _order_pack(telegram))
            sheet = await telegram.wait_for(_text_has("images 1-4"), timeout_s=60)
            job = _job_of(sheet)
            telegram.send_text(intruder, "/start")
            telegram.forge_press(intruder, "consent")
            telegram.forge_press(intruder, "subject:man")
            await telegram.wait_for(lambda s: s.chat_id == intruder and "Checklist" in s.text)
            forged = [f"keep:{job}:1", f"more:{job}:2", f"again:{job}:1", f"zip:{job}"]
            for data in forged:
                telegram.forge_press(intruder, data)
                telegram.forge_press(stranger, data)  # never consented: no session at all
            for person in (intruder, stranger):
                await telegram.wait_for(
                    lambda s, p=person: (
                        s.chat_id == p
                        and sum("no longer here" in t for t in telegram.texts(p)) == len(forged)
                    )
                )
    for person in (intruder, stranger):
        saw = [s for s in telegram.sent if s.chat_id == person]
        assert not any(s.photos or s.documents for s in saw)
        assert not any("Making" in s.text or "Re-rolling" in s.text for s in saw)
    client = SyncRedis.from_url(redis_url)
    try:
        jobs = [k for k in client.scan_iter("hs:job:*")]
        kept = [k for k in client.scan_iter("hs:*:kept")]
    finally:
        client.close()
    assert len(jobs) == 1 and not kept  # no re-roll queued, nothing kept for the victim
    victim = [s for s in telegram.sent if s.chat_id == USER]
    assert not any("✅" in label for s in victim for label in _labels(s))


async def test_a_queued_reroll_answers_status_and_cancel_and_stale_buttons_politely(
    telegram: FakeTelegram, bot_settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    async with running_bot(bot_settings):
        with worker_process(bot_settings, tmp_path):
            await _consent(telegram)
            telegram.press(USER, await _order_pack(telegram))
            sheet = await telegram.wait_for(_text_has("images 1-4"), timeout_s=60)
        job = _job_of(sheet)  # no worker from here on: the re-roll waits in the queue
        telegram.press(USER, f"again:{job}:1")
        await telegram.wait_for(_text_has("fresh images are on their way"))
        telegram.press(USER, f"more:{job}:1")  # one job at a time per person
        await telegram.wait_for(_text_has("still making your last images"))
        telegram.send_text(USER, "/status")
        status = await telegram.wait_for(lambda s: "In the queue" in s.text and "/status" in s.text)
        telegram.send_text(USER, "/cancel")
        await telegram.wait_for(_text_has("Stop making your pack?"))
        telegram.press(USER, "cancel:yes")
        await telegram.wait_for(_text_has("Stopping your pack"))
        await telegram.wait_for(_text_has("Cancelled as you asked"))
        telegram.forge_press(USER, f"keep:{job}:9")  # no such image
        telegram.forge_press(USER, f"keep:{job}:x")  # malformed
        await telegram.wait_for(
            lambda s: sum("no longer here" in t for t in telegram.texts(USER)) == 2
        )
    assert status.method == "sendMessage"  # the /status answer, beside the progress line
    client = SyncRedis.from_url(redis_url)
    try:
        assert client.zcard("headshots:studio") == 0
    finally:
        client.close()
