"""The Telegram front: PTB polling (or a webhook), its sink, and the chat service."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

from bot.fronts.telegram.adapter import build_application, register
from bot.fronts.telegram.menu import publish_menus
from bot.fronts.telegram.pacing import ChatPacer
from bot.fronts.telegram.sink import TelegramSink
from bot.service.app import Resources, chat_service
from bot.service.front import Front
from bot.text.i18n import COMMAND_NAMES
from core.settings import Settings

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 30
# Where the webhook server takes Telegram's updates; the Ingress (deploy/kubernetes) routes it.
WEBHOOK_PATH = "telegram"


async def open_front(settings: Settings, resources: Resources, stack: AsyncExitStack) -> Front:
    """Start PTB (polling or webhook) on the shared resources."""
    application = build_application(settings)
    await stack.enter_async_context(application)
    sink = TelegramSink(application.bot, resources.state, ChatPacer(interval_s=1.0, burst=3))
    service = chat_service(settings, resources, sink)
    register(application, service, settings.max_upload_bytes)
    await publish_menus(application.bot, COMMAND_NAMES)
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


async def _start_updates(application: object, settings: Settings) -> None:
    updater = application.updater  # type: ignore[attr-defined]
    if settings.telegram_webhook_url is None:
        await updater.start_polling(timeout=POLL_TIMEOUT_S, drop_pending_updates=False)
        return
    secret = settings.telegram_webhook_secret
    await updater.start_webhook(
        listen=settings.telegram_webhook_listen,
        port=settings.telegram_webhook_port,
        url_path=WEBHOOK_PATH,
        webhook_url=settings.telegram_webhook_url,
        secret_token=secret.get_secret_value() if secret else None,
    )
