"""The Discord front: discord.py's client on the gateway, its sink, and the chat service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.fronts.discord.adapter import COMMAND_PREFIX, HeadshotsClient
from bot.fronts.discord.commands import COMMANDS
from bot.fronts.discord.sink import DiscordSink
from bot.service.app import Resources, chat_service
from bot.service.front import Front
from core.settings import Settings

log = logging.getLogger(__name__)


def point_at(settings: Settings) -> None:
    """Point discord.py at the configured REST base and gateway (Discord's own by default)."""
    discord.http.Route.BASE = settings.discord_api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


async def open_front(settings: Settings, resources: Resources, stack: AsyncExitStack) -> Front:
    """Log in to Discord and serve its gateway on the shared resources."""
    if settings.discord_token is None:
        raise ValueError("HEADSHOTS_DISCORD_TOKEN is not set")
    point_at(settings)
    client = HeadshotsClient(settings)
    await stack.enter_async_context(client)
    sink = DiscordSink(client, resources.state, settings.discord_max_file_bytes)
    service = chat_service(
        settings, resources, sink, command_prefix=COMMAND_PREFIX, commands=COMMANDS
    )
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
