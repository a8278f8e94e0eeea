"""Every time estimate a person sees comes from one function fed by the workers' measurements,
so they agree: the confirmation and the queue say the same, and no later estimate is more
pessimistic than an earlier one (the old messages went 9 -> 20 -> 26 minutes -> "less than a
minute")."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from PIL import ImageOps
from redis.asyncio import Redis

from engine.jobs import Tier, eta
from tests import photos
from tests.fake_telegram import TOKEN, FakeTelegram, Sent
from tests.ops_harness import is_pack, order_pack
from tests.queue_harness import queue_settings, running_bot, worker_process

USER = 6060
MEASURED_S = {"preprocess": 30.0, "personalize": 500.0, "generate": 150.0, "select": 20.0}
TOLERANCE_S = 60.0  # estimates are said rounded to the minute
ABOUT = re.compile(r"about (\d+) min|about a minute|less than a minute|about ([\d.]+) h")


def _seconds(text: str) -> float | None:
    """Return the estimate a message says, in seconds (the middle of what it rounds), if any."""
    found = ABOUT.search(text)
    if found is None:
        return None
    minutes, hours = found.group(1), found.group(2)
    if minutes:
        return float(minutes) * 60
    if hours:
        return float(hours) * 3600
    return 30.0


def _estimates(sent: list[Sent], user: int) -> list[tuple[float, float, str]]:
    """Return (when it was shown, the estimate, the text) for every message that gives one."""
    found = []
    for message in sent:
        seconds = _seconds(message.text) if message.chat_id == user else None
        if seconds is not None:
            found.append((message.at, seconds, message.text))
    return found


async def test_every_estimate_the_person_sees_agrees(
    tmp_path: Path, redis_url: str, telegram: FakeTelegram
) -> None:
    settings = queue_settings(
        tmp_path, redis_url, telegram_token=TOKEN, telegram_base_url=telegram.base_url,
        telegram_base_file_url=telegram.base_file_url, min_selfies=2, max_selfies=4,
        gate_workers=1, album_wait_s=0.3,
    )  # fmt: skip
    redis = Redis.from_url(redis_url)
    for stage, seconds in MEASURED_S.items():  # what earlier packs on this worker measured
        await eta.record_s(redis, stage, seconds, Tier.STUDIO)
    await redis.aclose()
    face = photos.astronaut()
    selfies = [photos.to_bytes(face), photos.to_bytes(ImageOps.mirror(face))]
    with worker_process(settings, tmp_path, STANDIN_STEP_S="0.2"):
        async with running_bot(settings):
            confirm = await order_pack(telegram, USER, selfies)
            await telegram.wait_for(lambda s: s.chat_id == USER and is_pack(s), timeout_s=90)
    shown = _estimates(telegram.sent, USER)
    texts = [text for _, _, text in shown]
    promised = _seconds(confirm.text)
    assert promised == pytest.approx(sum(MEASURED_S.values()), abs=TOLERANCE_S), confirm.text
    queued = next(seconds for _, seconds, text in shown if "In the queue" in text)
    assert queued == pytest.approx(promised, abs=TOLERANCE_S), texts
    assert len(shown) >= 4, texts  # confirmation, queue, preparing, training...
    # When each message says the pack will be done: never later than an earlier message said.
    finish = [(at + seconds, text) for at, seconds, text in shown]
    for (earlier, said), (later, says) in itertools.pairwise(finish):
        assert later <= earlier + TOLERANCE_S, (said, says)
