"""Real servers for tests: a redis-server and moto's S3 server, each on a free 127.0.0.1 port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

REDIS_MISSING = (
    "redis-server is not on PATH. Tests need a real Redis: run `make test` (it installs Debian's "
    "redis-server when run as root) or install it yourself (apt-get install redis-server)."
)


def free_port() -> int:
    """Return a TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(ready: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    """Poll `ready` until it returns True, or fail naming `what`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not become ready within {timeout_s} s")


def _accepts(port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    return check


@contextmanager
def running(command: list[str], port: int, what: str) -> Iterator[None]:
    """Run `command` until the block ends; it must listen on `port`."""
    # Its output goes to a file, never a pipe: moto logs every request, and once a pipe nobody
    # reads is full (64 KiB) the server blocks mid-request and every later S3 call hangs.
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=output)
        try:
            wait_until(lambda: proc.poll() is not None or _accepts(port)(), what)
            if proc.poll() is not None:
                output.seek(0)
                err = output.read().decode(errors="replace")
                raise RuntimeError(f"{what} exited at start: {err.strip()}")
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def redis_server(workdir: Path, tries: int = 3) -> Iterator[str]:
    """Start a throwaway redis-server with no persistence; yield its URL.

    Parallel test workers each start one: a port that was free can be taken by another worker
    before redis binds it, so a start that fails is tried again on a new port.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(REDIS_MISSING)
    for attempt in range(tries):
        port = free_port()
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(workdir)]  # fmt: skip
        with ExitStack() as stack:
            try:
                stack.enter_context(running(command, port, "redis-server"))
            except RuntimeError:
                if attempt == tries - 1:
                    raise
                continue
            yield f"redis://127.0.0.1:{port}/0"
            return


@contextmanager
def s3_server() -> Iterator[str]:
    """Start moto's standalone S3-compatible server; yield its endpoint URL."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with running(command, port, "moto S3 server"):
        yield f"http://127.0.0.1:{port}"


class RestartableRedis:
    """A redis-server with append-only persistence that a test can stop and start again."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(REDIS_MISSING)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "yes", "--dir", str(workdir)]  # fmt: skip
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server (again) on the same port and data folder; wait until it listens."""
        self._proc = subprocess.Popen(self._command, stdout=subprocess.DEVNULL)
        wait_until(_accepts(self.port), "redis-server")

    def stop(self) -> None:
        """Stop the server (SIGTERM: it flushes its append-only file, as a restart would)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=20)

    def restart(self, down_s: float) -> None:
        """Stop the server, stay down for `down_s`, and start it again."""
        self.stop()
        time.sleep(down_s)
        self.start()


@contextmanager
def restartable_redis(workdir: Path) -> Iterator[RestartableRedis]:
    """Run a RestartableRedis for the block."""
    server = RestartableRedis(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
