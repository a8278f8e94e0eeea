"""Shared parts of the ops tests: headshots processes, scraping /metrics, one person's journey."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from core.settings import Settings
from tests.fake_telegram import FakeTelegram, Sent

ROOT = Path(__file__).resolve().parent.parent
Samples = list[tuple[str, dict[str, str], float]]


def process_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Return an environment carrying every setting (secrets included) and nothing stale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADSHOTS_")}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        raw = getattr(settings, name)
        text = raw.get_secret_value() if isinstance(raw, SecretStr) else value
        env[f"HEADSHOTS_{name.upper()}"] = json.dumps(text) if isinstance(text, list) else str(text)
    return {**env, "PYTHONPATH": str(ROOT), **(extra or {})}


@contextmanager
def headshots(
    args: list[str], settings: Settings, workdir: Path, **extra: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `headshots ARGS` until the block ends; wait until its /healthz says ok."""
    log_path = workdir / f"{args[0]}-{settings.ops_port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args], env=process_env(settings, extra),
            cwd=workdir, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            _wait_healthy(proc, settings.ops_port, log_path)
            yield proc
        finally:
            _stop(proc)


@asynccontextmanager
async def off_loop(manager: AbstractContextManager[Any]) -> AsyncIterator[Any]:
    """Enter and leave a blocking context manager in a thread, so fakes on this loop answer."""
    value = await asyncio.to_thread(manager.__enter__)
    try:
        yield value
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while not healthy(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            raise RuntimeError(f"process did not become healthy:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.1)


def healthy(port: int) -> bool:
    """Return whether /healthz on this local port answers ok."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
            return bool(json.load(reply)["status"] == "ok")
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def scrape(port: int) -> Samples:
    """Return every sample of the process's /metrics as (name, labels, value)."""
    async with ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("text/plain")
        text = await reply.text()
    return [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def metric(samples: Samples, name: str, **labels: str) -> float:
    """Return the sum of the samples called `name` whose labels include `labels`."""
    return sum(
        value for sample, got, value in samples if sample == name and labels.items() <= got.items()
    )


async def scrape_when(port: int, name: str, at_least: float, timeout_s: float = 30) -> Samples:
    """Scrape until `name` sums to at least `at_least` (the last part of an ending may lag)."""
    deadline = time.monotonic() + timeout_s
    while True:
        samples = await scrape(port)
        if metric(samples, name) >= at_least or time.monotonic() > deadline:
            return samples
        await asyncio.sleep(0.1)


async def healthz(port: int) -> tuple[int, dict[str, Any]]:
    """Return /healthz's status code and JSON body."""
    async with ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as reply:
        return reply.status, dict(await reply.json())


def _text_has(fragment: str, chat_id: int) -> Any:
    return lambda sent: sent.chat_id == chat_id and fragment in sent.text


def is_pack(sent: Sent) -> bool:
    """Tell the pack's albums from the instant retouch and text messages."""
    return sent.photos > 0 and "instant" not in sent.text


async def order_pack(
    tg: FakeTelegram, user: int, selfies: list[bytes], tier: str | None = None
) -> Sent:
    """Consent, send the selfies, pick the first style, 4 images and `tier` (when asked), and
    press Start; return the confirmation."""
    tg.send_text(user, "/start")
    await tg.wait_for(_text_has("I agree", user))
    tg.press(user, "consent")
    await tg.wait_for(_text_has("describe you", user))
    tg.press(user, "subject:woman")
    await tg.wait_for(_text_has("Checklist", user))
    for selfie in selfies:
        tg.send_photo(user, selfie)
    await tg.wait_for(_text_has(f"{len(selfies)} good photo", user), timeout_s=60)
    tg.press(user, "continue")
    menu = await tg.wait_for(_text_has("Pick up to", user))
    tg.press(user, menu.buttons[0][0]["callback_data"])
    await tg.wait_for(
        lambda s: s.chat_id == user and any("✓" in b["text"] for r in s.buttons for b in r)
    )
    tg.press(user, "styles:done")
    await tg.wait_for(_text_has("How many", user))
    tg.press(user, "size:4")
    if tier is not None:
        await tg.wait_for(_text_has("How should I make it?", user))
        tg.press(user, f"tier:{tier}")
    confirm = await tg.wait_for(_text_has("Ready to make your pack", user))
    tg.press(user, str(confirm.buttons[0][0]["callback_data"]))
    return confirm
