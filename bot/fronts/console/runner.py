"""Runs the console front end: stdin lines in, printed replies out, same core and queue."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TextIO

from bot.delivery.notifier import Notifier
from bot.fronts.console.adapter import (
    ConsoleSink,
    console_chat,
    parse_line,
    print_banner,
    read_lines,
)
from bot.fronts.gallery.links import GalleryLinks
from bot.fronts.gallery.server import gallery_for, start_gallery
from bot.service.app import chat_service, open_resources, style_titles
from bot.text.i18n import pick_language, speaking
from core.settings import Settings


async def serve_console(
    settings: Settings,
    out_dir: Path,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    log_file: Path | None = None,
) -> None:
    """Chat in the terminal until end of input; photos the bot sends are saved in `out_dir`.

    With `log_file`, the gate processes write their native output there, not on the chat.
    """
    stop = asyncio.Event()
    async with open_resources(settings, log_file) as resources:
        sink = ConsoleSink(stdout, out_dir)
        service = chat_service(settings, resources, sink)
        notifier = Notifier.from_settings(
            settings, resources.state, resources.blobs, sink, titles=style_titles(),
            on_finished=service.pack_finished, platforms=frozenset({"console"}),
            gallery=GalleryLinks.from_settings(settings),
        )  # fmt: skip
        notify = asyncio.create_task(notifier.run(stop))
        gallery = await start_gallery(
            settings, gallery_for(settings, resources, {"console": service})
        )
        language = os.environ.get("LANG", "")  # the terminal's: "es_ES.UTF-8" answers in Spanish
        with speaking(pick_language(language, settings.language)):
            print_banner(stdout, log_file)
        lines = await read_lines(stdin)
        chat = console_chat()
        try:
            while (line := await lines.get()) is not None:
                for event in parse_line(line, sink.buttons, settings.max_upload_bytes):
                    await service.handle(chat, event, language)
                await service.drain()
        finally:
            stop.set()
            await notify
            if gallery is not None:
                await gallery.cleanup()
