"""Log lines fit to ship: JSON by setting, with the job id and the hashed user, never a photo.

The job and the person come from context variables bound where a job starts (each arq job and
each asyncio task has its own context), or from ids already in the message: job ids and user
scopes are hashes (`storage.keys.user_scope`), so neither carries a platform's user id. Secrets
are masked by `bot.logs.SecretScrubber` on the same handlers.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time

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
