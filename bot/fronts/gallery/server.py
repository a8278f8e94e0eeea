"""Starts the gallery's HTTP server in a bot process, beside its fronts, on their resources.

Stateless like the rest of the bot: sessions are signed tokens and the pack lives in Redis, so
any replica behind the Service answers any request.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web

from bot.fronts.gallery.pack import PackReader
from bot.fronts.gallery.routes import Gallery, GalleryKeys, gallery_app
from bot.service.app import Resources, style_titles
from bot.service.chat_service import ChatService
from core.settings import Settings

log = logging.getLogger(__name__)


def gallery_for(
    settings: Settings, resources: Resources, services: Mapping[str, ChatService]
) -> Gallery | None:
    """Return the gallery of this deployment, None when no public address is set."""
    if not settings.public_url or settings.gallery_secret is None:
        return None
    token = settings.telegram_token
    keys = GalleryKeys(
        secret=settings.gallery_secret.get_secret_value().encode(),
        telegram_token=token.get_secret_value() if token is not None else "",
        init_max_age_s=settings.gallery_auth_max_age_s,
        session_ttl_s=settings.gallery_session_ttl_s,
    )
    reader = PackReader(resources.state, resources.arq, style_titles())
    return Gallery(keys, reader, resources.state, resources.blobs, resources.images,
                   dict(services), settings.language)  # fmt: skip


async def start_gallery(settings: Settings, gallery: Gallery | None) -> web.AppRunner | None:
    """Serve the gallery on `gallery_listen:gallery_port`; None when there is no gallery."""
    if gallery is None:
        return None
    runner = web.AppRunner(gallery_app(gallery), access_log=None)  # addresses carry tokens
    await runner.setup()
    await web.TCPSite(runner, settings.gallery_listen, settings.gallery_port).start()
    log.info("gallery on %s:%d for %s", settings.gallery_listen, settings.gallery_port,
             settings.public_url)  # fmt: skip
    return runner
