"""Carries out effects in Telegram chats through python-telegram-bot's Bot."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
    WebAppInfo,
)
from telegram.error import BadRequest, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.chat.events import (
    Button,
    ChatRef,
    Effect,
    Progress,
    Reply,
    SendAlbum,
    SendFiles,
    SendPhoto,
)
from bot.chat.sink import MaybeSentError
from bot.fronts.telegram.pacing import ChatPacer
from engine.jobs.keys import message_key
from storage.keys import user_scope
from storage.state import StateStore

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_RETRIES = 4
ALBUM_MAX = 10  # sendMediaGroup takes 2-10 items; PTB does not check
PROGRESS_TTL_S = 14 * 24 * 3600
LOST_PROGRESS_POSTS = 2  # posts of a progress message whose answer was lost, at most


class TelegramSink:
    """Sends replies, photos, albums and edits the progress messages of one bot."""

    def __init__(self, bot: Bot, state: StateStore, pacer: ChatPacer) -> None:
        self._bot = bot
        self._state = state
        self._pacer = pacer

    async def apply(self, chat: ChatRef, effects: Sequence[Effect]) -> None:
        """Carry out `effects` in order in `chat`."""
        for effect in effects:
            await self._apply_one(chat, effect)

    async def _apply_one(self, chat: ChatRef, effect: Effect) -> None:
        chat_id = int(chat.chat_id)
        if isinstance(effect, Reply):
            markup = _markup(effect.buttons)
            await self._send(
                chat, lambda: self._bot.send_message(chat_id, effect.text, reply_markup=markup)
            )
        elif isinstance(effect, SendPhoto):
            await self._send(
                chat, lambda: self._bot.send_photo(chat_id, effect.image, caption=effect.caption)
            )
        elif isinstance(effect, SendAlbum):
            await self._album(chat, effect)
        elif isinstance(effect, SendFiles):
            await self._files(chat, effect)
        else:
            await self._progress(chat, effect)

    async def _files(self, chat: ChatRef, files: SendFiles) -> None:
        chat_id = int(chat.chat_id)
        if len(files.files) == 1:
            name, data = files.files[0]
            document = InputFile(data, filename=name)
            await self._send(chat, lambda: self._bot.send_document(chat_id, document))
            return

        def upload() -> Awaitable[tuple[Message, ...]]:
            media = [
                InputMediaDocument(InputFile(data, filename=name, attach=True))
                for name, data in files.files
            ]
            return self._bot.send_media_group(chat_id, media)

        await self._send(chat, upload)

    async def _album(self, chat: ChatRef, album: SendAlbum) -> None:
        for start in range(0, len(album.images), ALBUM_MAX):
            chunk = album.images[start : start + ALBUM_MAX]
            await self._album_chunk(chat, chunk, album.caption if start == 0 else "")

    async def _album_chunk(self, chat: ChatRef, chunk: tuple[bytes, ...], caption: str) -> None:
        chat_id = int(chat.chat_id)
        if len(chunk) == 1:
            await self._send(chat, lambda: self._bot.send_photo(chat_id, chunk[0], caption=caption))
            return

        def upload() -> Awaitable[tuple[Message, ...]]:
            # InputMedia objects are rebuilt on every try: a failed upload consumes them.
            media = [InputMediaPhoto(image, caption=caption if index == 0 else None)
                     for index, image in enumerate(chunk)]  # fmt: skip
            return self._bot.send_media_group(chat_id, media)

        await self._send(chat, upload)

    async def _progress(self, chat: ChatRef, progress: Progress) -> None:
        key = message_key(user_scope(chat.platform, chat.user_id), progress.key)
        known = await self._state.get(key)
        markup = _markup(progress.buttons)
        signature = [progress.text, [[[b.label, b.data] for b in row] for row in progress.buttons]]
        if known is not None and known.get("signature") == signature:
            return  # Telegram refuses an edit that changes nothing; skip the request
        chat_id = int(chat.chat_id)
        lost = int(known.get("lost", 0)) if known is not None else 0
        if known is not None and not known["message_id"]:
            if lost >= LOST_PROGRESS_POSTS:
                return  # posted twice without learning its id: the ending still comes
            known = None
        if known is not None:
            message_id = int(known["message_id"])
            try:
                await self._send(
                    chat,
                    lambda: self._bot.edit_message_text(
                        progress.text, chat_id=chat_id, message_id=message_id, reply_markup=markup
                    ),
                )
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    log.warning("edit of %s failed (%s); sending anew", progress.key, exc)
                    known = None
        if known is None:
            try:
                sent = await self._send(
                    chat,
                    lambda: self._bot.send_message(chat_id, progress.text, reply_markup=markup),
                )
            except MaybeSentError:
                # It may be on screen with an id we never learnt: post it anew once, not forever.
                doc = {"message_id": 0, "signature": signature, "lost": lost + 1}
                await self._state.put(key, doc, ttl_s=PROGRESS_TTL_S)
                raise
            message_id = sent.message_id if isinstance(sent, Message) else 0
        doc = {"message_id": message_id, "signature": signature}
        await self._state.put(key, doc, ttl_s=PROGRESS_TTL_S)

    async def _send(self, chat: ChatRef, call: Callable[[], Awaitable[T]]) -> T:
        """Run one API call after pacing, retrying when Telegram says to wait."""
        for attempt in range(MAX_RETRIES):
            await self._pacer.wait(chat.chat_id)
            try:
                return await call()
            except RetryAfter as exc:
                if attempt == MAX_RETRIES - 1:
                    raise
                seconds = _retry_seconds(exc)
                scope = user_scope(chat.platform, chat.user_id)
                log.info("Telegram asked to wait %.1f s in the chat of %s", seconds, scope)
                await asyncio.sleep(seconds)
            except TimedOut as exc:  # sent, maybe: Telegram may have carried it out
                raise MaybeSentError(f"Telegram did not answer in time: {exc}") from exc
            except TelegramError:
                raise  # Telegram answered with an error: nothing was sent
            except Exception as exc:  # an answer PTB could not read: the call went through
                raise MaybeSentError(f"unreadable answer from Telegram: {exc!r}") from exc
        raise AssertionError("unreachable")


def _retry_seconds(exc: RetryAfter) -> float:
    # PTB 22 warns that `retry_after` becomes a timedelta in a future major version; accept both.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        delay = exc.retry_after
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


def _markup(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    keyboard = [[_button(b) for b in row] for row in rows]
    return InlineKeyboardMarkup(keyboard)


def _button(button: Button) -> InlineKeyboardButton:
    if button.url:  # opens inside Telegram as a Mini App, which hands the page its init data
        return InlineKeyboardButton(button.label, web_app=WebAppInfo(button.url))
    return InlineKeyboardButton(button.label, callback_data=button.data)
