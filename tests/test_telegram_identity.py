"""In Telegram, the set is about whoever most photos show: a stranger sent first is set aside.

The real PTB client against the fake Bot API server, a real redis-server and the real gate in
its process pool, as in tests/test_telegram_journey.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from engine.jobs.records import all_records, open_state
from storage.blobs_open import open_blob_store
from tests import photos
from tests.fake_telegram import FakeTelegram, Sent
from tests.queue_harness import running_bot, telegram_settings

USER = 778


@pytest.fixture
def bot_settings(tmp_path: Path, redis_url: str, telegram: FakeTelegram) -> Settings:
    return telegram_settings(tmp_path, redis_url, telegram)


def _has(fragment: str) -> object:
    return lambda sent: fragment in sent.text


async def _consent(tg: FakeTelegram) -> None:
    tg.send_text(USER, "/start")
    await tg.wait_for(_has("I agree"))
    tg.press(USER, "consent")
    await tg.wait_for(_has("describe you"))
    tg.press(USER, "subject:woman")
    await tg.wait_for(_has("Checklist"))


async def _send(tg: FakeTelegram, selfie: bytes, number: int) -> Sent:
    """Send one photo and return the reply that gives its verdict."""
    before = len(tg.sent)
    tg.send_photo(USER, selfie)
    return await tg.wait_for(_has(f"Photo {number}:"), since=before, timeout_s=60)


async def _order(tg: FakeTelegram) -> None:
    tg.press(USER, "continue")
    menu = await tg.wait_for(_has("Pick up to"))
    tg.press(USER, menu.buttons[0][0]["callback_data"])
    await tg.wait_for(lambda s: any("✓" in b["text"] for r in s.buttons for b in r))
    tg.press(USER, "styles:done")
    await tg.wait_for(_has("How many"))
    tg.press(USER, "size:4")
    confirm = await tg.wait_for(_has("Ready to make your pack"))
    tg.press(USER, str(confirm.buttons[0][0]["callback_data"]))
    await tg.wait_for(_has("In the queue"), timeout_s=30)


async def _trained_on(settings: Settings) -> list[bytes]:
    state = open_state(settings.redis_url)
    [record] = await all_records(state)
    await state.close()
    blobs = open_blob_store(settings)
    return [await blobs.get(key) for key in record.request.selfie_keys]


async def test_a_stranger_sent_first_is_set_aside_and_the_pack_trains_on_the_person(
    telegram: FakeTelegram, bot_settings: Settings
) -> None:
    stranger = photos.to_bytes(photos.astronaut())
    grace = [photos.to_bytes(shot) for shot in photos.shots_of(photos.grace_hopper())[:3]]
    async with running_bot(bot_settings):
        await _consent(telegram)
        first = await _send(telegram, stranger, 1)
        assert first.text.startswith("✅ Photo 1") and "1 good photo so far" in first.text
        tie = await _send(telegram, grace[0], 2)
        assert (
            "Which one is you?" in tie.text and "1 good photo so far" in tie.text
        )  # one against one: asked
        third = await _send(telegram, grace[1], 3)
        assert (
            "Photo 1 doesn't look like the other 2, so I've set it aside. "
            "Send only photos of you." in third.text
        )
        assert "Photo 2 counts now" in third.text and "2 good photos so far" in third.text
        fourth = await _send(telegram, grace[2], 4)
        assert fourth.text.startswith("✅ Photo 4") and "3 good photos so far" in fourth.text
        await _order(telegram)
        trained = await _trained_on(bot_settings)
    assert sorted(trained) == sorted(grace)


async def test_a_stranger_sent_twice_loses_once_the_person_outnumbers_them(
    telegram: FakeTelegram, bot_settings: Settings
) -> None:
    astronaut = photos.shots_of(photos.astronaut())
    strangers = [photos.to_bytes(shot) for shot in astronaut[:2]]
    grace = [photos.to_bytes(shot) for shot in photos.shots_of(photos.grace_hopper())[:3]]
    async with running_bot(bot_settings):
        await _consent(telegram)
        for number, selfie in enumerate(strangers, start=1):
            assert (await _send(telegram, selfie, number)).text.startswith(f"✅ Photo {number}")
        other = await _send(telegram, grace[0], 3)
        assert "doesn't look like the other 2, so I've set it aside" in other.text
        assert "2 good photos so far" in other.text
        tie = await _send(telegram, grace[1], 4)
        assert (
            "Which one is you?" in tie.text and "2 good photos so far" in tie.text
        )  # two against two
        flip = await _send(telegram, grace[2], 5)
        for number in (1, 2):
            assert (
                f"Photo {number} doesn't look like the other 3, so I've set it aside" in flip.text
            )
        assert "Photo 3 counts now" in flip.text and "Photo 4 counts now" in flip.text
        assert "3 good photos so far" in flip.text
        await _order(telegram)
        trained = await _trained_on(bot_settings)
    assert sorted(trained) == sorted(grace)
