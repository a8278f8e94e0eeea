"""Secrets never reach the logs: configured tokens and anything shaped like a bot token."""

from __future__ import annotations

import logging
import sys

import pytest

from core.settings import Settings, secret_values
from ops.logs import SecretScrubber

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, None)


def test_tokens_and_secrets_are_masked() -> None:
    scrubber = SecretScrubber(["s3cr3t-key"])
    record = _record("GET https://api.telegram.org/bot%s/getUpdates key=%s", TOKEN, "s3cr3t-key")
    scrubber.filter(record)
    text = record.getMessage()
    assert TOKEN not in text
    assert "s3cr3t-key" not in text
    assert text == "GET https://api.telegram.org/bot***/getUpdates key=***"


def test_tracebacks_are_masked() -> None:
    scrubber = SecretScrubber(["hunter22"])
    try:
        raise RuntimeError("login with hunter22 failed")
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    scrubber.filter(record)
    assert record.exc_text is not None
    assert "hunter22" not in record.exc_text
    assert "login with *** failed" in record.exc_text


def test_secret_values_come_from_settings() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_token=TOKEN,  # type: ignore[arg-type]
        discord_token="discord-secret-token",  # type: ignore[arg-type]
    )
    assert set(secret_values(settings)) >= {TOKEN, "discord-secret-token"}


def test_scrubber_on_a_real_handler(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(SecretScrubber(["abcdefgh"]))
    logging.getLogger("x").warning("token abcdefgh and %s", TOKEN)
    assert "abcdefgh" not in caplog.text
    assert TOKEN not in caplog.text
