"""Every bot command sets up logging the same way: a token never reaches the log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQrr"
DISCORD_TOKEN = "discord-token-that-is-long-enough-to-scrub"
# Runs the real command with the hosting loop replaced by one that logs both tokens, the way a
# library's error message or a URL in a traceback would.
PROBE = """
import logging, sys
import bot.host

async def leak(settings, fronts):
    logging.getLogger("probe").error("request failed: %s and %s", sys.argv[2], sys.argv[3])

bot.host.serve_until_signal = leak
from bot.cli import main
sys.exit(main([sys.argv[1]]))
"""


@pytest.mark.parametrize("command", ["discord", "telegram"])
def test_the_command_scrubs_tokens_from_its_logs(command: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HEADSHOTS_TELEGRAM_TOKEN": TOKEN,
        "HEADSHOTS_DISCORD_TOKEN": DISCORD_TOKEN,
        "HEADSHOTS_STORAGE_URL": f"file://{tmp_path}",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE, command, TOKEN, DISCORD_TOKEN],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "request failed: *** and ***" in result.stderr
    assert TOKEN not in result.stderr and DISCORD_TOKEN not in result.stderr
