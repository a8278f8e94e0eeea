"""Shared parts of the queue tests: settings, a real worker process, a recording sink, waiting."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, cast

from PIL import Image
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from bot.chat.events import ChatRef, Effect, Progress, Reply, SendAlbum, SendPhoto
from bot.delivery.notifier import Notifier
from bot.fronts.telegram import front as telegram_front
from bot.host import serve
from core.settings import Settings
from engine.jobs import PackRequest, Tier, event_from_json
from engine.jobs.keys import stream_key, workers_key
from storage.blobs import BlobStore
from storage.keys import user_scope
from storage.state import StateStore
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.standin_studio import calls_log

ROOT = Path(__file__).resolve().parent.parent
E = TypeVar("E", bound=Effect)
STANDIN = "tests.standin_studio:load_standin"


def queue_settings(tmp_path: Path, redis_url: str, **overrides: object) -> Settings:
    """Return settings with short timings for tests, nothing read from the environment."""
    values: dict[str, object] = {
        "redis_url": redis_url,
        "storage_url": f"file://{tmp_path / 'blobs'}",
        "studio": STANDIN,
        "worker_poll_delay_s": 0.05,
        "worker_lease_s": 1.0,
        "pack_timeout_s": 60,
        "pack_max_tries": 3,
        "progress_interval_s": 0.05,
        "notifier_edit_interval_s": 0.0,
        "notifier_claim_idle_s": 2.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def _env(settings: Settings, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADSHOTS_")}
    for name, value in settings.model_dump().items():
        if value is not None and not hasattr(value, "get_secret_value"):
            env[f"HEADSHOTS_{name.upper()}"] = str(value)
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


@contextmanager
def worker_process(
    settings: Settings, workdir: Path, *args: str, **extra: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `headshots worker *args` in its own process until the block ends; wait until it beats.

    Stopped with SIGINT, as `headshots run` stops it: it stops at the next stage boundary.
    """
    log = (workdir / f"worker-{time.monotonic_ns()}.log").open("wb")
    command = [sys.executable, "-m", "bot.cli", "worker", *args]
    proc = subprocess.Popen(command, env=_env(settings, extra), cwd=workdir, stdout=log, stderr=log)
    try:
        _wait_live(settings, proc, log.name)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def _wait_live(settings: Settings, proc: subprocess.Popen[bytes], log_name: str) -> None:
    """Wait until the process's own heartbeat is in a tier's live set (its id names its pid)."""
    client = SyncRedis.from_url(settings.redis_url)
    deadline = time.monotonic() + 60
    try:
        while not _beats(client, proc.pid):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{Path(log_name).read_text()}")
            time.sleep(0.05)
    finally:
        client.close()


def _beats(client: SyncRedis, pid: int) -> bool:
    sets = [cast(list[bytes], client.zrange(workers_key(tier), 0, -1)) for tier in Tier]
    return any(f":{pid}:" in member.decode() for members in sets for member in members)


def tiny_png(shade: int) -> bytes:
    """Return a small PNG standing in for a selfie."""
    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), (shade, 90, 120)).save(buffer, format="PNG")
    return buffer.getvalue()


async def stored_request(
    blobs: BlobStore,
    request_id: str = "r1",
    *,
    user: str = "42",
    styles: Sequence[str] = ("office", "outdoor"),
    pack_size: int = 3,
) -> PackRequest:
    """Store three selfies and return the request a confirmation would make."""
    scope = user_scope("telegram", user)
    keys = []
    for index in range(3):
        key = f"{scope}/selfies/{index}.png"
        await blobs.put(key, tiny_png(index * 40))
        keys.append(key)
    return PackRequest(
        platform="telegram",
        chat_id=f"chat{user}",
        user_id=user,
        user_scope=scope,
        selfie_keys=tuple(keys),
        subject="person",
        style_ids=tuple(styles),
        pack_size=pack_size,
        seed=7,
        request_id=request_id,
    )


@dataclass
class RecordingSink:
    """An EffectSink that remembers what it was asked to do, with arrival times."""

    got: list[tuple[ChatRef, Effect, float]] = field(default_factory=list)
    fail_next: int = 0

    async def apply(self, chat: ChatRef, effects: Sequence[Effect]) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("platform down")
        now = time.time()
        self.got.extend((chat, effect, now) for effect in effects)

    def of(self, kind: type[E]) -> list[E]:
        return [effect for _, effect, _ in self.got if isinstance(effect, kind)]

    def albums(self) -> list[SendAlbum | SendPhoto]:
        return [e for _, e, _ in self.got if isinstance(e, SendAlbum | SendPhoto)]

    def progress_texts(self) -> list[str]:
        """Return the texts of the jobs' progress messages (not the albums' control messages)."""
        return [e.text for _, e, _ in self.got if isinstance(e, Progress) and ":" not in e.key]

    def replies(self) -> list[str]:
        return [e.text for _, e, _ in self.got if isinstance(e, Reply)]


@asynccontextmanager
async def running_notifier(
    settings: Settings,
    state: StateStore,
    blobs: BlobStore,
    sink: RecordingSink,
    consumer: str = "bot-a",
    *,
    platforms: frozenset[str] | None = None,
) -> AsyncIterator[Notifier]:
    """Run a notifier in a task until the block ends."""
    redis = Redis.from_url(settings.redis_url)
    notifier = Notifier(
        redis,
        state,
        blobs,
        sink,
        consumer=consumer,
        edit_interval_s=settings.notifier_edit_interval_s,
        claim_idle_s=settings.notifier_claim_idle_s,
        block_s=0.2,
        platforms=platforms,
        worker_check_s=0.2,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(notifier.run(stop))
    try:
        yield notifier
    finally:
        stop.set()
        await task
        await redis.aclose()


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 30
) -> None:
    """Wait until `check` passes, or fail naming `what`."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def stream_kinds(redis: Redis, job_id: str) -> list[str]:
    """Return the kinds of every event in the job's stream, in order."""
    entries = await redis.xrange(stream_key(job_id))
    return [event_from_json(fields[b"e"]).kind for _, fields in entries]


def studio_calls(settings: Settings) -> list[str]:
    """Return the stand-in studio's stage calls, in order, across every worker process."""
    path = calls_log(settings)
    return [line.split()[0] for line in path.read_text().splitlines()] if path.exists() else []


@asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[None]:
    """Serve the Telegram front (the real python-telegram-bot client) for the block."""
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, [telegram_front.open_front], stop))
    try:
        yield
    finally:
        stop.set()
        await task


def telegram_settings(
    tmp_path: Path, redis_url: str, telegram: FakeTelegram, **extra: object
) -> Settings:
    """Settings for a bot served against the fake Bot API: a small set, one gate process."""
    return queue_settings(
        tmp_path, redis_url,
        telegram_token=TOKEN, telegram_base_url=telegram.base_url,
        telegram_base_file_url=telegram.base_file_url,
        **{"min_selfies": 2, "max_selfies": 4, "gate_workers": 1, "album_wait_s": 0.3, **extra},
    )  # fmt: skip
