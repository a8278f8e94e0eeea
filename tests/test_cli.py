"""The installed `headshots` command, run as a person would run it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# The console script installed beside this interpreter; PATH may not include the venv.
HEADSHOTS = Path(sys.executable).with_name("headshots")


def _run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    assert HEADSHOTS.exists(), f"the headshots console script is not installed: {HEADSHOTS}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HEADSHOTS_")}
    return subprocess.run(
        [str(HEADSHOTS), *args], capture_output=True, text=True, env={**clean, **(env or {})},
        cwd=cwd, timeout=120, check=False,
    )  # fmt: skip


# Every command a person or an operator types, in `headshots --help` order (README, operations).
COMMANDS = [
    "run", "chat", "telegram", "discord", "delete-user", "sweep", "version", "settings", "doctor",
    "retouch", "check", "worker", "evaluate", "jobs", "generate", "tiny-model",
]  # fmt: skip


def test_help_lists_every_command() -> None:
    result = _run("--help")
    assert result.returncode == 0
    listed = re.findall(r"^    (\S+)", result.stdout, flags=re.M)  # a command, then its help
    assert listed == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_explains_itself(command: str) -> None:
    result = _run(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: headshots {command}")
    description = result.stdout.split("\n\n")[1]
    assert len(description.split()) >= 3, f"{command} --help has no description"


def test_version() -> None:
    result = _run("version")
    assert result.returncode == 0
    assert result.stdout.startswith("headshots 0.")


def test_bad_setting_is_one_clear_line(tmp_path: Path) -> None:
    result = _run("settings", env={"HEADSHOTS_REDIS_URL": "localhost:6379"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "headshots: HEADSHOTS_REDIS_URL: must start with redis://, rediss:// or unix://"
    ]
    assert "Traceback" not in result.stderr


def test_settings_never_print_secrets(tmp_path: Path) -> None:
    result = _run("settings", env={"HEADSHOTS_TELEGRAM_TOKEN": "999:supersecret"}, cwd=tmp_path)
    assert result.returncode == 0
    assert "supersecret" not in result.stdout
    assert "telegram_token = **********" in result.stdout


@pytest.mark.parametrize("args", [[], ["no-such-command"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert _run(*args).returncode == 2
