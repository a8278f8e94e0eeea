"""Child processes of `headshots run`: a local redis-server when none answers, and the worker."""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from core.errors import ConfigError

log = logging.getLogger(__name__)

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def redis_answers(url: str, timeout_s: float = 0.5) -> bool:
    """Return whether something accepts TCP connections at the Redis URL's address."""
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout_s
        ):
            return True
    except OSError:
        return False


@contextmanager
def local_redis_if_needed(url: str, data_dir: Path) -> Iterator[None]:
    """Start a redis-server for a local URL nobody answers; stop it at the end."""
    parsed = urlparse(url)
    if parsed.scheme != "redis" or redis_answers(url):
        yield
        return
    if parsed.hostname not in LOCAL_HOSTS:
        raise ConfigError(
            f"HEADSHOTS_REDIS_URL: nothing answers at {parsed.hostname}:{parsed.port}"
        )
    binary = shutil.which("redis-server")
    if binary is None:
        raise ConfigError("redis-server is not installed: apt-get install redis-server")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = str(parsed.port or 6379)
    # Append-only persistence: queued jobs and sessions survive a restart of `make run`.
    command = [binary, "--port", port, "--bind", "127.0.0.1", "--dir", str(data_dir.resolve()),
               "--appendonly", "yes", "--save", "", "--logfile", "redis.log"]  # fmt: skip
    with child(command, "redis-server"):
        _wait_for(lambda: redis_answers(url), "redis-server")
        print(f"Started a local redis-server on port {port} (data in {data_dir})", file=sys.stderr)
        yield


@contextmanager
def child(command: Sequence[str], name: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run a child process for the block; SIGTERM it (then SIGKILL) at the end."""
    proc = subprocess.Popen(list(command))
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in 20 s; killing it", name)
                proc.kill()
                proc.wait()


def headshots_command(*args: str) -> list[str]:
    """Return the argv that runs another `headshots` subcommand with this interpreter."""
    return [sys.executable, "-m", "bot.cli", *args]


def _wait_for(ready: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise ConfigError(f"{what} did not start within {timeout_s:.0f} s")
