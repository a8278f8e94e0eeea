"""What a chat front is to the host: one platform's intake, sink and service (see bot.host)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

from bot.chat.sink import EffectSink
from bot.service.app import Resources
from bot.service.chat_service import ChatService
from core.settings import Settings


@dataclass
class Front:
    """One running front end: its sink and service, how to stop intake and how to close."""

    platform: str
    sink: EffectSink
    service: ChatService
    stop_intake: Callable[[], Awaitable[None]]
    running: asyncio.Future[None]  # completes when the front end stops on its own (a failure)


OpenFront = Callable[[Settings, Resources, AsyncExitStack], Awaitable[Front]]
"""Starts one platform's front on the shared resources; closes it through the exit stack."""
