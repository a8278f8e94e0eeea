"""Runs the Discord front end: the discord.py client, the chat service and the notifier."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.app import chat_service, open_resources, style_titles
from bot.discord_adapter import HeadshotsClient
from bot.discord_sink import DiscordSink
from bot.notifier import Notifier
from storage.settings import Settings

log = logging.getLogger(__name__)


def point_at(settings: Settings) -> None:
    """Point discord.py at the configured REST base and gateway (Discord's own by default)."""
    discord.http.Route.BASE = settings.discord_api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


async def serve_discord(settings: Settings, stop: asyncio.Event) -> None:
    """Serve Discord until `stop` is set (or the gateway connection fails for good)."""
    if settings.discord_token is None:
        raise ValueError("HEADSHOTS_DISCORD_TOKEN is not set")
    point_at(settings)
    client = HeadshotsClient(settings)
    async with open_resources(settings) as resources, client:
        sink = DiscordSink(client, resources.state, settings.discord_max_file_bytes)
        service = chat_service(settings, resources, sink)
        client.serve(service)
        notifier = Notifier.from_settings(
            settings, resources.state, resources.blobs, sink, titles=style_titles()
        )
        await client.login(settings.discord_token.get_secret_value())
        gateway = asyncio.create_task(client.connect())
        notify = asyncio.create_task(notifier.run(stop))
        stopped = asyncio.create_task(stop.wait())
        log.info("Discord bot is running")
        try:
            await asyncio.wait({gateway, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            client.accepting = False  # answer what is in flight, take nothing new
            stop.set()
            await service.drain()
            await notify
            await client.close()
            with contextlib.suppress(asyncio.CancelledError):
                await gateway  # re-raises a gateway failure
            await stopped
