"""A Bot API that carries out a send but answers with something the client cannot read: the
person sees each part of the ending at most twice, never a stream, and the album still arrives."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PIL import ImageOps

from tests import photos
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.ops_harness import is_pack, order_pack
from tests.queue_harness import queue_settings, running_bot, worker_process

USER = 7070
FOREVER = 10**6


async def test_unreadable_answers_give_at_most_one_duplicate_and_the_album_arrives(
    tmp_path: Path, redis_url: str, telegram: FakeTelegram
) -> None:
    settings = queue_settings(
        tmp_path, redis_url, telegram_token=TOKEN, telegram_base_url=telegram.base_url,
        telegram_base_file_url=telegram.base_file_url, min_selfies=2, max_selfies=4,
        gate_workers=1, album_wait_s=0.3, notifier_claim_idle_s=0.5,
    )  # fmt: skip
    face = photos.astronaut()
    selfies = [photos.to_bytes(face), photos.to_bytes(ImageOps.mirror(face))]
    with worker_process(settings, tmp_path, STANDIN_STEP_S="0.1"):
        async with running_bot(settings):
            await order_pack(telegram, USER, selfies)
            before = len(telegram.sent)
            # From now on every text message is sent but its answer is unreadable, and so is
            # the first album's.
            telegram.unreadable["sendMessage"] = FOREVER
            telegram.unreadable["sendMediaGroup"] = 1
            await telegram.wait_for(lambda s: s.chat_id == USER and is_pack(s), timeout_s=90)
            await asyncio.sleep(6.0)  # several claim intervals: a resend loop would show now
    after = telegram.sent[before:]
    offers = [s for s in after if "full-resolution files" in s.text]
    assert 1 <= len(offers) <= 2, [s.text for s in after]
    albums = [s for s in after if is_pack(s)]
    assert 1 <= len(albums) <= 2 and albums[0].photos == 4
    progress = [s for s in after if s.method == "sendMessage" and s.text[:1] in "⏳🔍🧠🎨🏅📦"]
    assert len(progress) <= 2, [s.text for s in progress]
