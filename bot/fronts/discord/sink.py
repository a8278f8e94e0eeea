"""Carries out effects in Discord DMs with the bot's own token (never an interaction token)."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import aiohttp
import discord
from PIL import Image

from bot.chat.events import ChatRef, Effect, Progress, Reply, SendAlbum, SendFiles, SendPhoto
from bot.fronts.discord.adapter import button_view
from bot.text.progress import ALBUM_MAX  # files in one message
from core import provenance
from engine.jobs.keys import message_key
from storage.keys import user_scope
from storage.state import StateStore

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_TEXT = 2000  # characters in one message
MAX_TRIES = 3
PROGRESS_TTL_S = 14 * 24 * 3600
IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "webp"})


class DiscordSink:
    """Sends replies, photos, albums and edits the progress messages of one bot."""

    def __init__(self, client: discord.Client, state: StateStore, max_file_bytes: int) -> None:
        self._client = client
        self._state = state
        self._max_file_bytes = max_file_bytes

    async def apply(self, chat: ChatRef, effects: Sequence[Effect]) -> None:
        """Carry out `effects` in order in `chat`."""
        for effect in effects:
            await self._apply_one(chat, effect)

    async def _apply_one(self, chat: ChatRef, effect: Effect) -> None:
        channel = self._channel(chat)
        if isinstance(effect, Reply):
            await self._text(channel, effect.text, button_view(effect.buttons))
        elif isinstance(effect, SendPhoto):
            await self._files(channel, [(effect.file_name, effect.image)], effect.caption)
        elif isinstance(effect, SendAlbum):
            named = list(zip(_names(effect), effect.images, strict=True))
            await self._in_chunks(channel, named, effect.caption)
        elif isinstance(effect, SendFiles):
            await self._in_chunks(channel, list(effect.files), effect.caption)
        else:
            await self._progress(chat, channel, effect)

    async def _in_chunks(
        self, channel: discord.PartialMessageable, named: list[tuple[str, bytes]], caption: str
    ) -> None:
        for start in range(0, len(named), ALBUM_MAX):
            chunk = named[start : start + ALBUM_MAX]
            await self._files(channel, chunk, caption if start == 0 else "")

    def _channel(self, chat: ChatRef) -> discord.PartialMessageable:
        return self._client.get_partial_messageable(
            int(chat.chat_id), type=discord.ChannelType.private
        )

    async def _text(
        self, channel: discord.PartialMessageable, text: str, view: discord.ui.View | None
    ) -> discord.Message:
        parts = split_text(text)
        for part in parts[:-1]:
            await _retrying(lambda p=part: channel.send(p))  # type: ignore[misc]
        return await _retrying(lambda: channel.send(parts[-1], view=view))  # type: ignore[arg-type]

    async def _files(
        self, channel: discord.PartialMessageable, named: list[tuple[str, bytes]], caption: str
    ) -> None:
        fitted = [await self._fitted(name, data) for name, data in named]

        def send() -> Awaitable[discord.Message]:
            # discord.File objects are closed after a send attempt: build new ones every try.
            files = [discord.File(io.BytesIO(data), filename=f"{stem}.{ext}")
                     for stem, data, ext in fitted]  # fmt: skip
            return channel.send(caption[:MAX_TEXT] or None, files=files)

        await _retrying(send)

    async def _fitted(self, name: str, data: bytes) -> tuple[str, bytes, str]:
        """Return (stem, data, extension): images made to fit, other files (a ZIP) as they are."""
        stem, _, ext = name.rpartition(".")
        if ext.lower() not in IMAGE_EXTENSIONS:
            return stem or "file", data, ext
        fitted, fitted_ext = await asyncio.to_thread(fit_image, data, self._max_file_bytes)
        return stem or "headshot", fitted, fitted_ext

    async def _progress(
        self, chat: ChatRef, channel: discord.PartialMessageable, progress: Progress
    ) -> None:
        key = message_key(user_scope(chat.platform, chat.user_id), progress.key)
        known = await self._state.get(key)
        signature = [progress.text, [[[b.label, b.data] for b in row] for row in progress.buttons]]
        if known is not None and known.get("signature") == signature:
            return  # nothing changed; spare the rate limit
        view = button_view(progress.buttons)
        text = progress.text[:MAX_TEXT]
        message_id = int(known["message_id"]) if known is not None else None
        if message_id is not None:
            try:
                message = channel.get_partial_message(message_id)
                await _retrying(lambda: message.edit(content=text, view=view))
            except discord.NotFound:
                log.warning("progress message %s is gone; sending anew", message_id)
                message_id = None
        if message_id is None:
            sent = await _retrying(lambda: channel.send(text, view=view))  # type: ignore[arg-type]
            message_id = sent.id
        await self._state.put(
            key, {"message_id": message_id, "signature": signature}, ttl_s=PROGRESS_TTL_S
        )


def _names(album: SendAlbum) -> tuple[str, ...]:
    """Return the album's file names: its own, or numbered ones where it came without."""
    if len(album.names) == len(album.images):
        return album.names
    return tuple(f"{i}.jpg" for i in range(1, len(album.images) + 1))


async def _retrying(call: Callable[[], Awaitable[T]]) -> T:
    """Run one API call, retrying Discord's server errors (discord.py already waits out 429s)."""
    for attempt in range(MAX_TRIES):
        try:
            return await call()
        except (discord.DiscordServerError, aiohttp.ClientError) as exc:
            if attempt == MAX_TRIES - 1:
                raise
            log.info("Discord call failed (%s); trying again", exc)
            await asyncio.sleep(1.0 + attempt)
    raise AssertionError("unreachable")


def split_text(text: str) -> list[str]:
    """Split text into Discord-sized messages, at line breaks where possible."""
    parts: list[str] = []
    rest = text or "…"
    while len(rest) > MAX_TEXT:
        cut = rest.rfind("\n", 0, MAX_TEXT)
        cut = cut if cut > 0 else MAX_TEXT
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    return [*parts, rest]


def fit_image(data: bytes, limit: int) -> tuple[bytes, str]:
    """Return the image (and its file extension) within `limit` bytes: as is, or a smaller JPEG."""
    if len(data) <= limit:
        return data, _extension(data)
    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGB")
    while True:
        smaller = provenance.jpeg_like(data, image, 88)  # a generated image stays marked
        if len(smaller) <= limit or min(image.size) < 64:
            return smaller, "jpg"
        image = image.resize(
            (image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.LANCZOS
        )


def _extension(data: bytes) -> str:
    return "png" if data.startswith(b"\x89PNG") else "jpg"
