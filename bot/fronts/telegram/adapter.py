"""Telegram front end: python-telegram-bot updates in, neutral events to the chat service.

The adapter translates and decides nothing; the session lives in Redis, not in PTB's
ConversationHandler, so a restart or a second replica continues every conversation.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.chat.events import ChatRef, Command, Event, Photo, Press, Text, Unsupported
from bot.service.chat_service import ChatService
from core.settings import Settings
from storage.keys import user_scope

log = logging.getLogger(__name__)

# Kinds of message the bot cannot use, by the attribute PTB sets on Message.
_UNSUPPORTED_KINDS = (
    "sticker", "voice", "video", "video_note", "animation", "audio", "location", "contact", "poll",
)  # fmt: skip


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """Build the PTB application with the configured Bot API server and rate limiting."""
    if settings.telegram_token is None:
        raise ValueError("HEADSHOTS_TELEGRAM_TOKEN is not set")
    return (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=2))
        .concurrent_updates(True)  # one person's slow photo must not hold up everyone else
        .build()
    )


def register(application: Application, service: ChatService, max_bytes: int) -> None:  # type: ignore[type-arg]
    """Route every message and button press to the chat service."""

    async def on_message(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or update.effective_user is None:
            return
        chat = _chat_ref(message, update.effective_user.id)
        refusal = await service.photo_refusal(chat) if carries_image(message) else None
        try:
            event = refusal or await to_event(message, max_bytes)
        except TelegramError as exc:
            scope = user_scope(chat.platform, chat.user_id)  # the hashed scope, never the raw id
            log.warning("could not fetch a file from %s: %s", scope, exc)
            event = Unsupported("download_failed")
        await service.handle(chat, event, update.effective_user.language_code or "")

    async def on_press(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.message is None or not isinstance(query.data, str):
            return
        # Stop the button's spinner beside the (maybe slow) answer, not before it: the press
        # must reach the person's queue before any update sent after it (a photo right after
        # "I agree" is judged with the consent already given).
        spinner = asyncio.create_task(_answer(query))
        chat = ChatRef("telegram", str(query.message.chat.id), str(query.from_user.id))
        await service.handle(chat, Press(query.data), query.from_user.language_code or "")
        await spinner

    application.add_handler(CallbackQueryHandler(on_press))
    application.add_handler(MessageHandler(filters.ALL & ~filters.UpdateType.EDITED, on_message))
    application.add_error_handler(_log_error)


async def _answer(query: CallbackQuery) -> None:
    try:
        await query.answer()
    except TelegramError as exc:  # "query is too old" after a restart: still handle it
        log.info("could not answer a button press: %s", exc)


def carries_image(message: Message) -> bool:
    """Tell whether the message has a photo or an image file to download."""
    document = message.document
    return bool(message.photo) or (
        document is not None and (document.mime_type or "").startswith("image/")
    )


async def to_event(message: Message, max_bytes: int) -> Event:
    """Translate one message; downloads photos and image documents within the size limit."""
    if message.photo:
        size = message.photo[-1]  # sizes come smallest first
        return await _download(message, size.file_id, size.file_size, max_bytes, "photo.jpg")
    document = message.document
    if document is not None:
        if not (document.mime_type or "").startswith("image/"):
            return Unsupported("document", document.file_size)
        name = document.file_name or "photo"
        return await _download(message, document.file_id, document.file_size, max_bytes, name)
    if message.text and message.text.startswith("/"):
        return _command(message.text)
    for kind in _UNSUPPORTED_KINDS:
        if getattr(message, kind, None):
            return Unsupported(kind)
    return Text(message.text or message.caption or "")


async def _download(
    message: Message, file_id: str, size: int | None, max_bytes: int, name: str
) -> Event:
    if size is not None and size > max_bytes:
        return Unsupported("too_large", size)
    file = await message.get_bot().get_file(file_id)
    data = bytes(await file.download_as_bytearray())
    if len(data) > max_bytes:
        return Unsupported("too_large", len(data))
    return Photo(data, file_id, name, message.media_group_id)


def _command(text: str) -> Command:
    word, _, args = text[1:].partition(" ")
    name = word.split("@", 1)[0].lower()  # "/start@headshots_bot" in groups
    return Command(name, args.strip())


def _chat_ref(message: Message, user_id: int) -> ChatRef:
    return ChatRef("telegram", str(message.chat.id), str(user_id))


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # The update itself carries names, texts and ids: log its number only, never its content.
    number = update.update_id if isinstance(update, Update) else None
    log.error("Telegram update %s failed", number, exc_info=context.error)
