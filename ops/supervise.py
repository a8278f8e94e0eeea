"""Child processes of `headshots run`: a local redis-server when none answers, and the worker."""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

from core.errors import ConfigError
from core.lifetime import end_with_parent
from ops.doctor import redact_url, redis_appendonly

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
        _announce_redis(url, "already running, not started by headshots")
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
    with child(command, "redis-server", end_with_parent):
        _wait_for(lambda: redis_answers(url), "redis-server")
        _announce_redis(url, f"started here, data in {data_dir}")
        yield


@contextmanager
def child(
    command: Sequence[str], name: str, setup: Callable[[], None] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a child process for the block; SIGTERM it (then SIGKILL) at the end.

    `setup` runs in the child before it starts (redis-server: end when we are killed).
    """
    proc = subprocess.Popen(list(command), process_group=0, preexec_fn=setup)  # noqa: PLW1509
    try:
        yield proc
    finally:
        stop(proc, name)


def spawn(
    command: Sequence[str], output: IO[bytes] | None = None, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a child in its own process group: Ctrl-C reaches us alone; we stop it in order."""
    return subprocess.Popen(list(command), stdout=output, stderr=output, process_group=0, env=env)


def stop(proc: subprocess.Popen[bytes], name: str, timeout_s: float = 20) -> None:
    """SIGTERM the child, then SIGKILL it after `timeout_s`; always reap it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s; killing it", name, timeout_s)
            proc.kill()
    proc.wait()


def _announce_redis(url: str, origin: str) -> None:
    """Say which Redis this run uses, and warn when a restart of it would lose the queue."""
    appendonly = redis_appendonly(url)
    kept = {"yes": "append-only", "no": "no append-only file"}.get(appendonly or "", "unknown")
    print(f"headshots run: Redis at {redact_url(url)} ({origin}; {kept})", file=sys.stderr)
    if appendonly == "no":
        print(
            "headshots run: warning: that Redis keeps no append-only file, so restarting it "
            "loses queued packs, sessions and progress (set `appendonly yes`, or stop it and "
            "let headshots start its own)",
            file=sys.stderr,
        )


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
