"""Log lines fit to ship: JSON by setting, with the job id and the hashed user, never a photo.

The job and the person come from context variables bound where a job starts (each arq job and
each asyncio task has its own context), or from ids already in the message: job ids and user
scopes are hashes (`storage.keys.user_scope`), so neither carries a platform's user id. Secrets
are masked by `SecretScrubber` on the same handlers; `setup_logging_from` is the one set-up every
command uses.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

from core.settings import Settings, secret_values

JOB_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)
USER: contextvars.ContextVar[str | None] = contextvars.ContextVar("user", default=None)

_JOB_IN_TEXT = re.compile(r"\bpack-[0-9a-f]{24}\b")
_USER_IN_TEXT = re.compile(r"\b(?!pack-)[a-z]{2,16}-[0-9a-f]{24}\b")


def bind_job(job_id: str, user: str | None = None) -> None:
    """Tag every log line of the current task (and threads it starts) with the job and person."""
    JOB_ID.set(job_id)
    if user is not None:
        USER.set(user)


class BytesAsSize(logging.Filter):
    """Log the size of any bytes argument, never the bytes: they are photos or blobs."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace bytes arguments by `<N bytes>`; keep the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(_no_bytes(arg) for arg in record.args)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, job_id, user, error."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON."""
        message = record.getMessage()
        line: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": message,
        }
        job = JOB_ID.get() or _first(_JOB_IN_TEXT, message)
        user = USER.get() or _first(_USER_IN_TEXT, message)
        if job:
            line["job_id"] = job
        if user:
            line["user"] = user
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["error"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    found = pattern.search(text)
    return found.group(0) if found else None


def _no_bytes(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    return value


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
    level: str,
    *,
    quiet: bool = False,
    secrets: Iterable[str] = (),
    json_lines: bool = False,
    log_file: Path | None = None,
) -> None:
    """Log at `level` to stderr, or to `log_file`; `quiet` keeps only warnings and errors."""
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.WARNING if quiet else level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        filename=log_file,
    )
    logging.captureWarnings(True)  # library warnings follow the logs, not the terminal
    scrubber = SecretScrubber(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(BytesAsSize())  # before the scrubber renders the message
        handler.addFilter(scrubber)
        if json_lines:
            handler.setFormatter(JsonFormatter())
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)


def setup_logging_from(
    settings: Settings, *, quiet: bool = False, log_file: Path | None = None
) -> None:
    """Set up logging for any command: level and format from settings, every secret masked."""
    setup_logging(
        settings.log_level,
        quiet=quiet,
        secrets=secret_values(settings),
        json_lines=settings.log_format == "json",
        log_file=log_file,
    )


def send_native_output_to(log_file: Path) -> None:
    """Point this process's fds 1 and 2 at `log_file`: C libraries (TFLite) write there."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
