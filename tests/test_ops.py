"""Operations: /healthz and /metrics of the bot and the worker, JSON logs, `headshots doctor`."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import ImageOps
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from bot.fronts.telegram import front as telegram_front
from bot.host import serve
from core.settings import Settings
from engine.jobs import create_arq_pool, enqueue_pack
from engine.jobs.keys import record_key
from engine.jobs.records import open_state
from ops.server import start_ops_server, stop_ops_server
from storage.blobs_open import open_blob_store
from storage.state_redis import RedisStateStore
from tests import photos
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.ops_harness import (
    ROOT,
    Samples,
    headshots,
    healthz,
    is_pack,
    metric,
    off_loop,
    order_pack,
    scrape,
    scrape_when,
)
from tests.queue_harness import eventually, queue_settings, stored_request
from tests.servers import free_port

USER = 4242
HEADSHOTS = Path(sys.executable).with_name("headshots")


def _selfies() -> list[bytes]:
    face = photos.astronaut()
    return [photos.to_bytes(face), photos.to_bytes(ImageOps.mirror(face))]


@pytest.mark.journey
async def test_healthz_and_metrics_move_during_a_journey(
    telegram: FakeTelegram, redis_url: str, tmp_path: Path
) -> None:
    bot = queue_settings(
        tmp_path, redis_url, telegram_token=TOKEN, telegram_base_url=telegram.base_url,
        telegram_base_file_url=telegram.base_file_url, min_selfies=2, max_selfies=4,
        gate_workers=1, album_wait_s=0.3, ops_port=free_port(),
    )  # fmt: skip
    worker = bot.model_copy(update={"ops_port": free_port()})
    stop = asyncio.Event()
    with headshots(["worker"], worker, tmp_path):
        serving = asyncio.create_task(serve(bot, [telegram_front.open_front], stop))
        try:
            await _wait_up(bot.ops_port)
            bot_before, worker_before = await scrape(bot.ops_port), await scrape(worker.ops_port)
            for port, role in ((bot.ops_port, "bot"), (worker.ops_port, "worker")):
                assert await healthz(port) == (200, await _body(port, role))
            await order_pack(telegram, USER, _selfies())
            await telegram.wait_for(is_pack, timeout_s=60)
            delivered = metric(bot_before, "headshots_packs_delivered_total") + 1
            bot_after = await scrape_when(
                bot.ops_port, "headshots_packs_delivered_total", delivered
            )
            worker_after = await scrape(worker.ops_port)
        finally:
            stop.set()
            await serving

    def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert moved(bot_before, bot_after, "headshots_photos_total") >= 2
    assert moved(bot_before, bot_after, "headshots_packs_delivered_total") == 1
    assert moved(worker_before, worker_after, "headshots_packs_finished_total", outcome="done") == 1
    for stage in ("preprocess", "personalize", "generate", "select"):
        assert moved(worker_before, worker_after, "headshots_stage_seconds_count", stage=stage) == 1
    assert metric(worker_after, "headshots_queue_length", tier="studio") == 0  # the pack is done
    assert metric(worker_after, "headshots_workers_live", tier="studio") == 1  # itself
    assert metric(worker_after, "headshots_workers_live", tier="express") == 0
    assert [s for s in worker_after if s[0] == "process_resident_memory_bytes"]


async def _wait_up(port: int) -> None:
    for _ in range(300):
        try:
            await healthz(port)
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"nothing answered on {port}")


async def _body(port: int, role: str) -> dict[str, object]:
    _, body = await healthz(port)
    assert isinstance(body["uptime_s"], int)
    return {"role": role, "status": "ok", "redis": "ok", "uptime_s": body["uptime_s"]}


async def test_healthz_is_503_when_redis_is_gone(tmp_path: Path, redis_url: str) -> None:
    settings = queue_settings(tmp_path, redis_url, ops_port=free_port())
    dead = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    runner = await start_ops_server(settings, dead, "bot")
    try:
        status, body = await healthz(settings.ops_port)
        samples = await scrape(settings.ops_port)  # metrics still answer without Redis
    finally:
        await stop_ops_server(runner)
        await dead.aclose()
    assert status == 503
    assert body["status"] == "unhealthy"
    assert "unreachable" in str(body["redis"])
    names = {name for name, _, _ in samples}  # the bot's own counters, not only the process's
    assert {"headshots_packs_delivered_total", "headshots_delivery_failures_total"} <= names


async def test_port_zero_starts_nothing(settings: Settings) -> None:
    redis = Redis.from_url(settings.redis_url)
    assert await start_ops_server(settings, redis, "bot") is None
    await redis.aclose()


async def test_a_taken_port_costs_the_metrics_not_the_process(settings: Settings) -> None:
    redis = Redis.from_url(settings.redis_url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = settings.model_copy(update={"ops_port": taken.getsockname()[1]})
        assert await start_ops_server(busy, redis, "worker") is None
    await redis.aclose()


def test_json_logs_carry_job_and_user_never_bytes_or_tokens() -> None:
    token = "7000000001:AAH" + "x" * 32
    code = f"""
import logging
from ops.logs import setup_logging
from ops.logs import bind_job
setup_logging("INFO", secrets=["s3-secret-value"], json_lines=True)
log = logging.getLogger("engine.worker.runner")
log.info("photo %s from telegram-{"a" * 24}", b"\\xff\\xd8" * 5000)
log.info("calling https://api.telegram.org/bot{token}/getMe with s3-secret-value")
bind_job("pack-{"b" * 24}", "telegram-{"c" * 24}")
try:
    raise ValueError("boom")
except ValueError:
    log.exception("pack failed")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [line["level"] for line in lines] == ["INFO", "INFO", "ERROR"]
    assert lines[0]["msg"] == f"photo <10000 bytes> from telegram-{'a' * 24}"
    assert lines[0]["user"] == f"telegram-{'a' * 24}"
    assert "job_id" not in lines[0]
    assert token not in result.stderr
    assert "s3-secret-value" not in result.stderr
    assert lines[2]["job_id"] == f"pack-{'b' * 24}"
    assert lines[2]["user"] == f"telegram-{'c' * 24}"
    assert "ValueError: boom" in lines[2]["error"]


async def test_worker_json_logs_name_the_job_and_the_person(redis_url: str, tmp_path: Path) -> None:
    settings = queue_settings(tmp_path, redis_url, ops_port=free_port(), log_format="json")
    blobs, state = open_blob_store(settings), open_state(redis_url)
    arq = await create_arq_pool(settings)
    try:
        request = await stored_request(blobs)
        log_path = tmp_path / f"worker-{settings.ops_port}.log"
        worker = headshots(["worker"], settings, tmp_path, STANDIN_FAIL_IN="personalize")
        async with off_loop(worker):
            await enqueue_pack(arq, state, request)
            await eventually(lambda: _status_is(state, request.job_id, "failed"), "the failure")
    finally:
        await arq.aclose()
        await blobs.close()
        await state.close()
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    failure = [line for line in lines if line["level"] == "ERROR" and "error" in line]
    assert failure, lines
    assert failure[0]["job_id"] == request.job_id
    assert failure[0]["user"] == request.user_scope
    assert "stand-in studio told to fail in personalize" in failure[0]["error"]


async def _status_is(state: RedisStateStore, job_id: str, status: str) -> bool:
    record = await state.get(record_key(job_id))
    return record is not None and record.get("status") == status


def _doctor(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HEADSHOTS_")}
    return subprocess.run(
        [str(HEADSHOTS), "doctor", *args], capture_output=True, text=True,
        env={**clean, **env}, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip


def test_doctor_names_each_problem_and_its_fix(redis_url: str, tmp_path: Path) -> None:
    env = {"HEADSHOTS_REDIS_URL": redis_url, "HEADSHOTS_STORAGE_URL": f"file://{tmp_path}/b"}
    result = _doctor("--role", "bot", env=env, cwd=tmp_path)
    assert result.returncode == 1
    # The test Redis runs without persistence, and no chat token is set.
    assert "FAIL  redis persistence: appendonly is off" in result.stdout
    assert "fix: run Redis with `appendonly yes`" in result.stdout
    assert "FAIL  chat: no chat token" in result.stdout
    assert "ok    storage:" in result.stdout
    assert "2 problem(s) found" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_doctor_passes_a_good_bot_host(redis_url: str, tmp_path: Path) -> None:
    client = SyncRedis.from_url(redis_url)
    client.config_set("appendonly", "yes")
    try:
        env = {
            "HEADSHOTS_REDIS_URL": redis_url,
            "HEADSHOTS_STORAGE_URL": f"file://{tmp_path}/b",
            "HEADSHOTS_TELEGRAM_TOKEN": TOKEN,
        }
        result = _doctor("--role", "bot", env=env, cwd=tmp_path)
    finally:
        client.config_set("appendonly", "no")
        client.close()
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1] == "all good"


def test_doctor_reports_bad_settings_and_an_unreachable_redis(tmp_path: Path) -> None:
    bad = _doctor(env={"HEADSHOTS_MIN_SELFIES": "zero"}, cwd=tmp_path)
    assert bad.returncode == 1
    assert "FAIL  settings" in bad.stdout
    assert "HEADSHOTS_MIN_SELFIES" in bad.stdout
    env = {"HEADSHOTS_REDIS_URL": f"redis://:hunter2@127.0.0.1:{free_port()}/0"}
    gone = _doctor("--role", "bot", env=env, cwd=tmp_path)
    assert gone.returncode == 1
    assert "FAIL  redis: cannot reach" in gone.stdout
    assert "hunter2" not in gone.stdout


def test_doctor_says_a_tiny_model_only_makes_noise(
    redis_url: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.tiny_models import tiny_model_dir

    tiny = tiny_model_dir(tmp_path_factory, "sdxl")
    env = {"HEADSHOTS_REDIS_URL": redis_url, "HEADSHOTS_BASE_MODEL": str(tiny)}
    result = _doctor("--role", "worker", env=env, cwd=tmp_path)
    assert f"FAIL  base model: folder {tiny} is a tiny random-weight model" in result.stdout
    assert "its images are noise" in result.stdout
