"""Logging set-up for the bot's processes."""

from __future__ import annotations

import logging

NOISY = ("httpx", "telegram.ext.Updater", "aiohttp.access", "arq.worker", "discord")


def setup_logging(level: str, *, quiet: bool = False) -> None:
    """Log to stderr at `level`; `quiet` (console chat) keeps only warnings and errors."""
    logging.basicConfig(
        level=logging.WARNING if quiet else level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
