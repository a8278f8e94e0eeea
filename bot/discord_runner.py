"""Runs the Discord front end (and Telegram beside it in the same process when asked).

One process has one notifier: the notifier group hands each job's events to any consumer, so a
process that serves two platforms must route each effect to the sink of the chat's platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.app import Resources, chat_service, open_resources, style_titles
from bot.discord_adapter import HeadshotsClient
from bot.discord_sink import DiscordSink
from bot.events import ChatRef, Effect
from bot.notifier import Notifier
from bot.service import ChatService
from bot.sink import EffectSink
from engine.ops_server import start_ops_server, stop_ops_server
from storage.settings import Settings

log = logging.getLogger(__name__)


class RoutingSink:
    """Hands effects to the sink of the chat's platform."""

    def __init__(self, sinks: Mapping[str, EffectSink]) -> None:
        self._sinks = dict(sinks)

    async def apply(self, chat: ChatRef, effects: Sequence[Effect]) -> None:
        """Carry out `effects` with the sink of `chat.platform`."""
        sink = self._sinks.get(chat.platform)
        if sink is None:
            raise LookupError(f"this process serves no {chat.platform!r} chats")
        await sink.apply(chat, effects)


@dataclass
class Front:
    """One running front end: its sink and service, how to stop intake and how to close."""

    platform: str
    sink: EffectSink
    service: ChatService
    stop_intake: Callable[[], Awaitable[None]]
    running: asyncio.Future[None]  # completes when the front end stops on its own (a failure)


def point_at(settings: Settings) -> None:
    """Point discord.py at the configured REST base and gateway (Discord's own by default)."""
    discord.http.Route.BASE = settings.discord_api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


async def serve_discord(
    settings: Settings, stop: asyncio.Event, with_telegram: bool = False
) -> None:
    """Serve Discord (and Telegram, with one shared notifier) until `stop` is set."""
    async with open_resources(settings) as resources, AsyncExitStack() as stack:
        fronts = [await _open_discord(settings, resources, stack)]
        if with_telegram:
            fronts.append(await _open_telegram(settings, resources, stack))
        sink = RoutingSink({front.platform: front.sink for front in fronts})
        platforms = frozenset(front.platform for front in fronts)
        notifier = Notifier.from_settings(
            settings, resources.state, resources.blobs, sink, titles=style_titles(),
            platforms=platforms,
        )  # fmt: skip
        notify = asyncio.create_task(notifier.run(stop))
        ops = await start_ops_server(settings, resources.arq, "bot")
        stopped = asyncio.ensure_future(_until(stop))
        try:
            ends = {stopped, *(front.running for front in fronts)}
            await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.set()
            for front in fronts:
                await front.stop_intake()
            for front in fronts:
                await front.service.drain()
            await notify
            await stop_ops_server(ops)
            await stopped


async def _until(stop: asyncio.Event) -> None:
    await stop.wait()


async def _open_discord(settings: Settings, resources: Resources, stack: AsyncExitStack) -> Front:
    if settings.discord_token is None:
        raise ValueError("HEADSHOTS_DISCORD_TOKEN is not set")
    point_at(settings)
    client = HeadshotsClient(settings)
    await stack.enter_async_context(client)
    sink = DiscordSink(client, resources.state, settings.discord_max_file_bytes)
    service = chat_service(settings, resources, sink)
    client.serve(service)
    await client.login(settings.discord_token.get_secret_value())
    gateway = asyncio.create_task(client.connect())
    stack.push_async_callback(_close_discord, client, gateway)

    async def stop_intake() -> None:
        client.accepting = False  # answer what is in flight, take nothing new

    log.info("Discord bot is running")
    return Front("discord", sink, service, stop_intake, gateway)


async def _close_discord(client: discord.Client, gateway: asyncio.Task[None]) -> None:
    await client.close()
    with contextlib.suppress(asyncio.CancelledError):
        await gateway  # re-raises a gateway failure


async def _open_telegram(settings: Settings, resources: Resources, stack: AsyncExitStack) -> Front:
    from bot.pacing import ChatPacer
    from bot.telegram_adapter import build_application, register
    from bot.telegram_runner import _start_updates
    from bot.telegram_sink import TelegramSink

    application = build_application(settings)
    await stack.enter_async_context(application)
    sink = TelegramSink(application.bot, resources.state, ChatPacer(interval_s=1.0, burst=3))
    service = chat_service(settings, resources, sink)
    register(application, service, settings.max_upload_bytes)
    await application.start()
    stack.push_async_callback(application.stop)
    await _start_updates(application, settings)
    updater = application.updater
    assert updater is not None

    async def stop_intake() -> None:
        if updater.running:
            await updater.stop()

    log.info("Telegram bot @%s is running", application.bot.username)
    return Front("telegram", sink, service, stop_intake, asyncio.get_running_loop().create_future())
