"""Builds a bot process: its resources once at start, the chat service, and the notifier."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from arq.connections import ArqRedis

from bot.chat.menus import CoreConfig, StyleChoice
from bot.chat.sink import EffectSink
from bot.images.pool import ImagePool
from bot.service.chat_service import (
    ChatService,
    RetouchLook,
    ServiceOptions,
    Services,
    VoiceOptions,
)
from bot.service.limits import Limits
from bot.service.pack_queue import ArqPackQueue
from bot.service.sheet_desk import TELEGRAM_UPLOAD_BYTES, SheetOptions
from bot.text.i18n import COMMAND_NAMES, SLASH
from bot.text.messages import Policy
from core.settings import Settings
from engine.jobs import Tier, create_arq_pool
from engine.jobs.records import open_state
from storage.blobs import BlobStore
from storage.blobs_open import open_blob_store
from storage.state import StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resources:
    """Connections a bot process opens once and closes at exit."""

    state: StateStore
    blobs: BlobStore
    arq: ArqRedis
    images: ImagePool


@asynccontextmanager
async def open_resources(
    settings: Settings, log_file: Path | None = None
) -> AsyncIterator[Resources]:
    """Open Redis, the blob store, the job queue and the gate pool; close them at the end.

    `log_file` receives the gate processes' own output (the console chat keeps its terminal
    for the conversation).
    """
    state = open_state(settings.redis_url)
    blobs = open_blob_store(settings)
    arq = await create_arq_pool(settings)
    images = ImagePool(settings.gate_workers, settings.max_upload_bytes, log_file)
    try:
        await images.warm()
        yield Resources(state, blobs, arq, images)
    finally:
        images.close()
        await arq.aclose()
        await blobs.close()
        await state.close()


def core_config(settings: Settings) -> CoreConfig:
    """Return what the conversation core needs, from settings and the engine's style files."""
    from engine.studio.styles import list_styles

    policy = Policy(
        min_selfies=settings.min_selfies,
        max_selfies=settings.max_selfies,
        recommended_selfies=max(settings.min_selfies, min(10, settings.max_selfies)),
        results_days=settings.results_retention_days,
        selfies_hours_after_delivery=settings.selfies_retention_hours,
        abandoned_hours=settings.abandoned_session_hours,
        max_upload_bytes=settings.max_upload_bytes,
        packs_per_day=settings.packs_per_day,
    )
    styles = tuple(StyleChoice(s.id, s.title, s.description) for s in list_styles())
    return CoreConfig(
        policy=policy, styles=styles, max_styles=settings.max_styles, tiers=offered_tiers(settings)
    )


def offered_tiers(settings: Settings) -> tuple[Tier, ...]:
    """Return the tiers the workers serve: the bot reads the same settings as they do."""
    backends = ((Tier.EXPRESS, settings.express_studio), (Tier.STUDIO, settings.studio))
    return tuple(tier for tier, spec in backends if spec)


def chat_service(
    settings: Settings,
    resources: Resources,
    sink: EffectSink,
    *,
    command_prefix: str = SLASH,
    commands: tuple[str, ...] = COMMAND_NAMES,
) -> ChatService:
    """Build the chat service for one front end, whose commands are typed `command_prefix`+name."""
    queue = ArqPackQueue(resources.arq, resources.state)
    services = Services(
        state=resources.state, blobs=resources.blobs, images=resources.images,
        redis=resources.arq, queue=queue, sink=sink,
    )  # fmt: skip
    look = RetouchLook(settings.retouch_background, settings.retouch_aspect, settings.brand_colour)
    limits = Limits(
        settings.packs_per_day, settings.max_queue_length, frozenset(settings.allowed_users),
        settings.rerolls_per_day,
    )  # fmt: skip
    sheet = SheetOptions(
        settings.brand_colour,
        settings.results_retention_days * 86400,
        {"telegram": TELEGRAM_UPLOAD_BYTES, "discord": settings.discord_max_file_bytes},
    )
    voice = VoiceOptions(settings.language, command_prefix)
    options = ServiceOptions(
        settings.album_wait_s,
        settings.abandoned_session_hours * 3600,
        look,
        limits,
        voice,
        sheet,
    )
    config = replace(core_config(settings), commands=commands)
    return ChatService(services, config, options)


def style_titles() -> dict[str, str]:
    """Return style titles by id, for captions."""
    from engine.studio.styles import list_styles

    return {style.id: style.title for style in list_styles()}
