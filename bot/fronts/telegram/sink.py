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
from bot.fronts.telegram.progress_message import (
    ProgressMessage,
    Shown,
    lost_post,
    posted,
    signature_of,
    state_of,
)
from bot.text.progress import ALBUM_MAX  # sendMediaGroup takes 2-10 items; PTB does not check
from engine.jobs.keys import message_key
from storage.keys import user_scope
from storage.state import StateStore

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_RETRIES = 4
PROGRESS_TTL_S = 14 * 24 * 3600


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
        """Show `progress` on the job's one progress message (see progress_message's states)."""
        key = message_key(user_scope(chat.platform, chat.user_id), progress.key)
        known = ProgressMessage.from_doc(await self._state.get(key))
        signature = signature_of(progress)
        state = state_of(known, signature)
        if state in (Shown.SAME, Shown.GIVEN_UP):
            return
        message_id = 0
        if state is Shown.SHOWN and known is not None:
            message_id = await self._edit(chat, known.message_id, progress)
        if not message_id:
            try:
                message_id = await self._post(chat, progress)
            except MaybeSentError:
                # It may be on screen with an id we never learnt: post anew a bounded number
                # of times, not on every step.
                lost = lost_post(known, signature)
                await self._state.put(key, lost.to_doc(), ttl_s=PROGRESS_TTL_S)
                raise
        await self._state.put(key, posted(message_id, signature).to_doc(), ttl_s=PROGRESS_TTL_S)

    async def _edit(self, chat: ChatRef, message_id: int, progress: Progress) -> int:
        """Edit the message; return its id, or 0 when Telegram no longer has it to edit."""
        markup = _markup(progress.buttons)
        chat_id = int(chat.chat_id)
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
                return 0
        return message_id

    async def _post(self, chat: ChatRef, progress: Progress) -> int:
        """Post the message anew; return its id (0 if the answer carried none)."""
        markup = _markup(progress.buttons)
        chat_id = int(chat.chat_id)
        sent = await self._send(
            chat, lambda: self._bot.send_message(chat_id, progress.text, reply_markup=markup)
        )
        return sent.message_id if isinstance(sent, Message) else 0

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
