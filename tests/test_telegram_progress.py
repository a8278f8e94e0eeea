"""The progress message's states (bot/fronts/telegram/progress_message.py), through the real Bot.

python-telegram-bot's Bot talks to the fake Bot API server; each test drives the sink with
Progress effects and counts what Telegram was asked to do.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.chat.events import Button, ChatRef, Progress
from bot.chat.sink import MaybeSentError
from bot.fronts.telegram.pacing import ChatPacer
from bot.fronts.telegram.progress_message import (
    LOST_POSTS,
    ProgressMessage,
    Shown,
    lost_post,
    signature_of,
    state_of,
)
from bot.fronts.telegram.sink import TelegramSink
from storage.state_memory import MemoryStateStore
from tests.fake_telegram import TOKEN, FakeTelegram

USER = 4242
CHAT = ChatRef("telegram", str(USER), str(USER))


@pytest.fixture
async def sink(telegram: FakeTelegram) -> AsyncIterator[TelegramSink]:
    bot = Bot(TOKEN, base_url=telegram.base_url, base_file_url=telegram.base_file_url)
    async with bot:
        yield TelegramSink(bot, MemoryStateStore(), ChatPacer(interval_s=0.01, burst=100))


def _step(text: str) -> Progress:
    return Progress(key="job-1", text=text, buttons=((Button("Cancel", "cancel:job-1"),),))


def _messages(telegram: FakeTelegram) -> list[int]:
    return sorted({s.message_id for s in telegram.sent if s.chat_id == USER})


async def test_one_message_is_posted_then_edited_and_a_repeat_costs_no_call(
    sink: TelegramSink, telegram: FakeTelegram
) -> None:
    await sink.apply(CHAT, [_step("Training 10%")])
    await sink.apply(CHAT, [_step("Training 50%")])
    await sink.apply(CHAT, [_step("Training 50%")])  # SAME: Telegram would refuse the edit
    assert telegram.calls["sendMessage"] == 1
    assert telegram.calls["editMessageText"] == 1
    assert len(_messages(telegram)) == 1
    assert telegram.texts(USER)[-1] == "Training 50%"


async def test_a_message_telegram_lost_is_posted_anew(
    sink: TelegramSink, telegram: FakeTelegram
) -> None:
    await sink.apply(CHAT, [_step("Training 10%")])
    telegram.sent.clear()  # the message is gone (deleted in the chat): an edit finds nothing
    await sink.apply(CHAT, [_step("Training 50%")])
    assert telegram.calls["editMessageText"] == 1
    assert telegram.calls["sendMessage"] == 2
    assert telegram.texts(USER) == ["Training 50%"]
    await sink.apply(CHAT, [_step("Rendering")])  # and the new one is edited from now on
    assert telegram.calls["sendMessage"] == 2


async def test_posts_whose_answer_was_lost_stop_after_the_cap(
    sink: TelegramSink, telegram: FakeTelegram
) -> None:
    telegram.unreadable["sendMessage"] = 10  # every post lands, its answer never reads
    for step in range(LOST_POSTS + 3):
        with contextlib.suppress(MaybeSentError):
            await sink.apply(CHAT, [_step(f"Training {step}0%")])
    assert telegram.calls["sendMessage"] == LOST_POSTS
    assert telegram.calls["editMessageText"] == 0


def test_the_states_follow_what_is_known() -> None:
    shown = ProgressMessage(7, signature_of(_step("a")))
    assert state_of(None, signature_of(_step("a"))) is Shown.NEW
    assert state_of(shown, signature_of(_step("a"))) is Shown.SAME
    assert state_of(shown, signature_of(_step("b"))) is Shown.SHOWN
    once = lost_post(shown, signature_of(_step("b")))
    assert (once.message_id, once.lost) == (0, 1)
    assert state_of(once, signature_of(_step("c"))) is Shown.LOST
    twice = lost_post(once, signature_of(_step("c")))
    assert twice.lost == LOST_POSTS
    assert state_of(twice, signature_of(_step("d"))) is Shown.GIVEN_UP
    assert ProgressMessage.from_doc(twice.to_doc()) == twice
