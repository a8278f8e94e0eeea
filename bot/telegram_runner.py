"""Runs the Telegram front end: PTB polling (or webhook), the chat service and the notifier."""

from __future__ import annotations

import asyncio
import logging

from bot.app import chat_service, open_resources, style_titles
from bot.notifier import Notifier
from bot.pacing import ChatPacer
from bot.telegram_adapter import build_application, register
from bot.telegram_sink import TelegramSink
from engine.ops_server import start_ops_server, stop_ops_server
from storage.settings import Settings

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 30


async def serve_telegram(settings: Settings, stop: asyncio.Event) -> None:
    """Serve Telegram until `stop` is set."""
    application = build_application(settings)
    async with open_resources(settings) as resources, application:
        sink = TelegramSink(application.bot, resources.state, ChatPacer(interval_s=1.0, burst=3))
        service = chat_service(settings, resources, sink)
        register(application, service, settings.max_upload_bytes)
        notifier = Notifier.from_settings(
            settings, resources.state, resources.blobs, sink, titles=style_titles(),
            platforms=frozenset({"telegram"}),
        )  # fmt: skip
        await application.start()
        await _start_updates(application, settings)
        notify = asyncio.create_task(notifier.run(stop))
        ops = await start_ops_server(settings, resources.arq, "bot")
        log.info("Telegram bot @%s is running", application.bot.username)
        try:
            await stop.wait()
        finally:
            await application.updater.stop()  # type: ignore[union-attr]
            await service.drain()
            await application.stop()
            await notify
            await stop_ops_server(ops)


async def _start_updates(application: object, settings: Settings) -> None:
    updater = application.updater  # type: ignore[attr-defined]
    if settings.telegram_webhook_url is None:
        await updater.start_polling(timeout=POLL_TIMEOUT_S, drop_pending_updates=False)
        return
    secret = settings.telegram_webhook_secret
    await updater.start_webhook(
        listen=settings.telegram_webhook_listen,
        port=settings.telegram_webhook_port,
        url_path="telegram",
        webhook_url=settings.telegram_webhook_url,
        secret_token=secret.get_secret_value() if secret else None,
    )
