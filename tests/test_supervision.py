"""`headshots run` supervises its worker: restarted when killed, given up when it cannot start."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from PIL import ImageOps
from redis.asyncio import Redis

from bot.text import messages
from bot.text.i18n import t
from core.settings import Settings
from engine.jobs import create_arq_pool, enqueue_pack
from engine.jobs.keys import WORKER_UNAVAILABLE
from engine.jobs.records import open_state
from engine.jobs.workers import mark_unavailable
from ops.supervise import redis_answers
from storage.blobs_open import open_blob_store
from tests import photos
from tests.fake_telegram import FakeTelegram, Sent
from tests.ops_harness import headshots, healthy, is_pack, off_loop, order_pack, process_env
from tests.queue_harness import (
    RecordingSink,
    eventually,
    queue_settings,
    running_notifier,
    stored_request,
    telegram_settings,
    worker_process,
)
from tests.servers import free_port

USER = 4343


def _settings(tmp_path: Path, redis_url: str, telegram: FakeTelegram, **extra: object) -> Settings:
    return telegram_settings(tmp_path, redis_url, telegram, ops_port=free_port(), **extra)


def _selfies() -> list[bytes]:
    face = photos.astronaut()
    return [photos.to_bytes(face), photos.to_bytes(ImageOps.mirror(face))]


def _children(pid: int) -> dict[int, str]:
    """Return the direct children of `pid` with their state letter (Z: defunct)."""
    found = {}
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            stat = Path(f"/proc/{child}/stat").read_text()
            found[int(child)] = stat.rsplit(")", 1)[1].split()[0]
    return found


def _worker_pids(run: subprocess.Popen[bytes]) -> list[int]:
    pids = []
    for pid in _children(run.pid):
        # setproctitle rewrites the command line: what `ps` shows is all there is to match.
        if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"headshots worker"):
            pids.append(pid)
    return pids


async def test_a_killed_worker_is_restarted_and_the_pack_arrives_once(
    telegram: FakeTelegram, redis_url: str, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, redis_url, telegram)
    async with off_loop(headshots(["run"], settings, tmp_path, STANDIN_STEP_S="0.2")) as run:

        async def one_worker() -> bool:
            return len(_worker_pids(run)) == 1

        await eventually(one_worker, "the supervised worker")
        first = _worker_pids(run)[0]
        await order_pack(telegram, USER, _selfies())
        await telegram.wait_for(lambda s: "Learning your face" in s.text, timeout_s=60)
        os.kill(first, signal.SIGKILL)

        async def restarted() -> bool:
            return bool(_worker_pids(run)) and first not in _worker_pids(run)

        await eventually(restarted, "a new worker after the SIGKILL")
        await telegram.wait_for(is_pack, timeout_s=90)
        await asyncio.sleep(2)  # room for a duplicate to show up, were there one
        assert first not in _children(run.pid)  # reaped, not left defunct
    packs = [sent for sent in telegram.sent if is_pack(sent)]
    assert len(packs) == 1  # one style picked: one album, sent once
    log = (tmp_path / f"run-{settings.ops_port}.log").read_text()
    assert "the worker stopped (exit status -9); restarting" in log


def _doctor(settings: Settings, cwd: Path) -> str:
    env = process_env(settings)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "doctor", "--role", "worker"], capture_output=True,
        text=True, env=env, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip
    return result.stdout


async def test_no_base_model_packs_are_unavailable_and_the_host_hears_why_once(
    telegram: FakeTelegram, redis_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-model"
    settings = _settings(
        tmp_path, redis_url, telegram,
        studio="engine.studio.lora.backend:load_studio", base_model=str(missing),
    )  # fmt: skip
    redis = Redis.from_url(redis_url)
    async with off_loop(headshots(["run"], settings, tmp_path)) as run:

        async def gave_up() -> bool:
            log = (tmp_path / f"run-{settings.ops_port}.log").read_text()
            return "cannot start" in log

        await eventually(gave_up, "the supervisor to give up", timeout_s=120)
        assert await redis.exists(WORKER_UNAVAILABLE)
        assert _worker_pids(run) == []  # exited and reaped: nothing defunct
        assert "Z" not in _children(run.pid).values()
        await order_pack(telegram, USER, _selfies())
        told = await telegram.wait_for(lambda s: s.text == messages.PACKS_UNAVAILABLE)
        retouch = await telegram.wait_for(_is_retouch)
    assert "headshots worker" not in told.text and "Host" not in told.text
    assert "on its way" not in retouch.text  # no pack is coming
    log = (tmp_path / f"run-{settings.ops_port}.log").read_text()
    assert log.count(str(missing)) == 1, log  # the reason, once
    assert "FAIL  worker: the last worker could not start" in _doctor(settings, tmp_path)
    await redis.aclose()


def _is_retouch(sent: Sent) -> bool:
    return sent.photos > 0 and "instant" in sent.text


async def test_a_waiting_person_hears_when_no_worker_runs_and_the_note_goes_when_one_is_back(
    redis_url: str, tmp_path: Path
) -> None:
    settings = queue_settings(tmp_path, redis_url)
    state, blobs = open_state(redis_url), open_blob_store(settings)
    redis = Redis.from_url(redis_url)
    sink = RecordingSink()
    async with running_notifier(settings, state, blobs, sink):
        arq = await create_arq_pool(settings)
        await enqueue_pack(arq, state, await stored_request(blobs))
        await arq.aclose()

        def shown(note: str) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                texts = sink.progress_texts()
                return bool(texts) and texts[-1].endswith(note)

            return check

        await eventually(shown(t(messages.NO_WORKER_NOTE)), "the no-worker note")
        await mark_unavailable(redis, "HEADSHOTS_BASE_MODEL: no such folder")
        await eventually(shown(t(messages.UNAVAILABLE_NOTE)), "the unavailable note")
        with worker_process(settings, tmp_path):
            await eventually(lambda: _delivered(sink), "the pack once a worker is back")
    texts = sink.progress_texts()
    # The queue line comes before the notes and, when the notifier sees the worker before the
    # worker takes the pack (a race a loaded machine wins), once more as the note goes.
    assert texts.count(texts[0]) <= 2, texts
    assert all(a != b for a, b in itertools.pairwise(texts)), texts  # never said twice in a row
    noted = [text for text in texts if t(messages.NO_WORKER_NOTE) in text]
    assert len(noted) == 1
    after = texts[texts.index(noted[0]) + 2 :]  # the unavailable note, then the corrections
    assert after and not any("not running" in t or "can't" in t for t in after)
    assert not await redis.exists(WORKER_UNAVAILABLE)  # the starting worker cleared it
    await state.close()
    await redis.aclose()


async def _delivered(sink: RecordingSink) -> bool:
    return len(sink.albums()) >= 2


async def test_the_worker_has_its_own_ops_port_and_a_killed_run_takes_its_children_along(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    # Nothing answers at this URL, so `run` starts its own redis-server (a child, in data/redis).
    own_redis = f"redis://127.0.0.1:{free_port()}/0"
    settings = _settings(tmp_path, own_redis, telegram)
    async with off_loop(headshots(["run"], settings, tmp_path)) as run:

        async def worker_started() -> bool:
            return bool(_worker_pids(run))

        await eventually(worker_started, "the worker to start", timeout_s=120)
        children = _children(run.pid)  # redis-server, the worker and the image pool

        async def worker_healthy() -> bool:  # on the port after the bot's, which the bot holds
            return await asyncio.to_thread(healthy, settings.ops_port + 1)

        await eventually(worker_healthy, "the worker's /healthz", timeout_s=60)
        assert any("redis-server" in _command(pid) for pid in children)
        run.send_signal(signal.SIGKILL)  # no chance to stop anything itself
        run.wait()

        async def all_gone() -> bool:
            return not any(_alive(pid) for pid in children)

        try:
            await eventually(all_gone, "redis-server and the worker to end", timeout_s=30)
        except AssertionError:
            raise AssertionError([_command(pid) for pid in children if _alive(pid)]) from None
    assert not redis_answers(own_redis)


def _command(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _alive(pid: int) -> bool:
    """Return whether `pid` runs (a zombie waiting for its reaper counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
