"""Keeps `headshots run`'s worker running: restart it when it dies, give up when it cannot start.

A worker that dies after working for a while is restarted at once (its job resumes from the
stored stages). One that dies soon after starting is restarted with a growing pause, and after a
few such deaths in a row, or at once when it exits with a configuration error (status 2: a
missing model, a bad setting; a restart cannot help), the supervisor stops trying and says why
in one line. The chat keeps running: the person is told packs are unavailable
(engine.jobs.workers).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TextIO

from ops.supervise import spawn, stop

CONFIG_EXIT = 2  # bot.cli's status for a HeadshotsError: the same start would fail again


@dataclass(frozen=True)
class Backoff:
    """How a dying worker is restarted."""

    first_s: float = 1.0
    most_s: float = 30.0
    started_s: float = 60.0  # a worker that ran this long had started; its death is news
    give_up_after: int = 5  # deaths at start in a row


class WorkerSupervisor:
    """Runs the worker command in a thread of its own until `close`."""

    def __init__(
        self,
        command: Sequence[str],
        log_file: Path,
        backoff: Backoff = Backoff(),
        out: TextIO = sys.stderr,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._command = list(command)
        self._env = env  # the worker's environment; None: ours
        self._log_file = log_file
        self._backoff = backoff
        self._out = out
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="worker-supervisor")
        self.starts = 0

    def __enter__(self) -> WorkerSupervisor:
        self._log_file.parent.mkdir(parents=True, exist_ok=True)
        self._say(f"the worker's logs go to {self._log_file}")
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker (SIGTERM: its job goes back to the queue) and the supervision."""
        self._closing.set()
        self._thread.join()

    def _supervise(self) -> None:
        deaths = 0
        while not self._closing.is_set():
            started = time.monotonic()
            status = self._run_once()
            if status is None:
                return
            deaths = deaths + 1 if time.monotonic() - started < self._backoff.started_s else 1
            if status == CONFIG_EXIT or deaths >= self._backoff.give_up_after:
                self._give_up(status, deaths)
                return
            pause_s = min(self._backoff.most_s, self._backoff.first_s * 2 ** (deaths - 1))
            self._say(f"the worker stopped (exit status {status}); restarting in {pause_s:.0f} s")
            self._closing.wait(pause_s)

    def _run_once(self) -> int | None:
        """Run the worker until it exits (its status) or we close (None)."""
        with self._log_file.open("ab") as log:
            proc = spawn(self._command, output=log, env=self._env)
        self.starts += 1
        while not self._closing.is_set():
            try:
                return proc.wait(timeout=0.2)  # reaped here: no defunct worker stays behind
            except subprocess.TimeoutExpired:
                continue
        stop(proc, "the worker")
        return None

    def _give_up(self, status: int, deaths: int) -> None:
        why = "cannot start" if status == CONFIG_EXIT else f"stopped {deaths} times at start"
        self._say(
            f"the worker {why}: {self._last_words()} Packs are off; the chat and the "
            f"instant retouch still work. Fix it, then restart. (Details: {self._log_file})"
        )

    def _last_words(self) -> str:
        """Return the worker's last line (bot.cli prints a known error there as one line)."""
        lines = self._log_file.read_text(errors="replace").strip().splitlines()
        last = lines[-1].removeprefix("headshots: ").strip() if lines else "no output"
        return last if last.endswith(".") else f"{last}."

    def _say(self, line: str) -> None:
        print(f"headshots run: {line}", file=self._out, flush=True)
