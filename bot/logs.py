"""Logging set-up for the bot's processes, with secrets scrubbed from every record."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from engine.ops_logs import BytesAsSize, JsonFormatter

NOISY = ("httpx", "telegram.ext.Updater", "aiohttp.access", "arq.worker", "discord")
# Bot tokens in URLs ("bot123456:AA...") and headers; matched even when no setting names them.
TOKEN_PATTERN = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}")
MASK = "***"


class SecretScrubber(logging.Filter):
    """Replace known secrets and anything shaped like a bot token in a record's final text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message (and traceback text) with secrets masked."""
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.scrub(text), None
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        return True

    def scrub(self, text: str) -> str:
        """Return `text` with every secret masked."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return TOKEN_PATTERN.sub(MASK, text)


def setup_logging(
    level: str, *, quiet: bool = False, secrets: Iterable[str] = (), json_lines: bool = False
) -> None:
    """Log to stderr at `level`; `quiet` (console chat) keeps only warnings and errors."""
    logging.basicConfig(
        level=logging.WARNING if quiet else level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    scrubber = SecretScrubber(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(BytesAsSize())  # before the scrubber renders the message
        handler.addFilter(scrubber)
        if json_lines:
            handler.setFormatter(JsonFormatter())
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
