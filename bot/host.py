"""Hosts chat fronts in one process: shared resources, one notifier, effects routed by platform.

A front is one platform's intake and sink (`bot.fronts.telegram.front`,
`bot.fronts.discord.front`). One process has one notifier: its consumer group hands over each
job's events, so a process serving two platforms routes each effect to the sink of the chat's
platform. To add a platform, write a module with `open_front(settings, resources, stack) ->
Front` and name it in `fronts_for`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack

from bot.chat.events import ChatRef, Effect
from bot.chat.sink import EffectSink
from bot.delivery.notifier import Notifier
from bot.fronts.gallery.links import GalleryLinks
from bot.fronts.gallery.server import gallery_for, start_gallery
from bot.service.app import open_resources, style_titles
from bot.service.front import OpenFront
from core.errors import ConfigError
from core.settings import Settings
from engine.jobs import TerminalEvent
from ops.server import start_ops_server, stop_ops_server

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


def fronts_for(settings: Settings, platforms: Sequence[str] | None = None) -> list[OpenFront]:
    """Return the fronts to open: those named, or every platform whose token is set."""
    from bot.fronts.discord import front as discord_front
    from bot.fronts.telegram import front as telegram_front

    known: dict[str, tuple[OpenFront, bool]] = {
        "discord": (discord_front.open_front, settings.discord_token is not None),
        "telegram": (telegram_front.open_front, settings.telegram_token is not None),
    }
    names = list(platforms) if platforms else [name for name, (_, on) in known.items() if on]
    for name in names:
        if not known[name][1]:
            raise ConfigError(f"HEADSHOTS_{name.upper()}_TOKEN: not set")
    return [known[name][0] for name in names]


async def serve(settings: Settings, openers: Sequence[OpenFront], stop: asyncio.Event) -> None:
    """Serve every front, with one shared notifier, until `stop` is set or a front fails."""
    async with open_resources(settings) as resources, AsyncExitStack() as stack:
        fronts = [await open_front(settings, resources, stack) for open_front in openers]
        sink = RoutingSink({front.platform: front.sink for front in fronts})
        services = {front.platform: front.service for front in fronts}

        async def finished(chat: ChatRef, event: TerminalEvent) -> None:
            await services[chat.platform].pack_finished(chat, event)

        notifier = Notifier.from_settings(
            settings, resources.state, resources.blobs, sink, titles=style_titles(),
            on_finished=finished, platforms=frozenset(services),
            command_prefixes={name: service.command_prefix for name, service in services.items()},
            gallery=GalleryLinks.from_settings(settings),
        )  # fmt: skip
        notify = asyncio.create_task(notifier.run(stop))
        ops = await start_ops_server(settings, resources.arq, "bot")
        gallery = await start_gallery(settings, gallery_for(settings, resources, services))
        stopped: asyncio.Future[None] = asyncio.ensure_future(_until(stop))
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
            await stop_ops_server(gallery)
            await stopped


async def serve_until_signal(settings: Settings, openers: Sequence[OpenFront]) -> None:
    """Serve the fronts until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(settings, openers, stop)


async def _until(stop: asyncio.Event) -> None:
    await stop.wait()
