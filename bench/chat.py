"""Time from a photo update reaching the bot to its verdict being sent, 20 people at once.

Runs the real Telegram front end (python-telegram-bot, the chat service, the quality gate in its
process pool, a real redis-server) against the fake Bot API server of the tests. Each person has
consented and is capturing; then all of them send a selfie in the same instant, for several
rounds two seconds apart. Prints p50/p95/max of update-to-verdict latency.
Usage: python bench/chat.py [--people N] [--rounds N] [--against OLD_CHECKOUT]
With --against, runs the same on an old checkout first and prints old, new and new/old
(bench/against.py).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

# The repository root replaces this folder on the path, so bench/queue.py cannot shadow `queue`.
sys.path[0] = str(Path(__file__).resolve().parent.parent)
from bench import against  # noqa: E402

sys.path[0] = str(against.code_root(Path(sys.path[0])))

from PIL import ImageOps  # noqa: E402

from bot.fronts.telegram import front as telegram_front  # noqa: E402
from bot.host import serve  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests import photos  # noqa: E402
from tests.fake_telegram import TOKEN, FakeTelegram  # noqa: E402
from tests.servers import redis_server  # noqa: E402

ROUND_PAUSE_S = 2.0  # each person's pause between selfies; the pacer refills a token a second


def _selfies() -> list[bytes]:
    face = photos.astronaut()
    variants = [face, ImageOps.mirror(face)]
    return [photos.to_bytes(v, quality=q) for v in variants for q in (90, 80, 70, 60)]


async def _prepare(tg: FakeTelegram, users: list[int]) -> None:
    for user in users:
        tg.send_text(user, "/start")
    await tg.wait_for(lambda s: s.chat_id == users[-1] and "I agree" in s.text)
    for user in users:
        tg.press(user, "consent")
    await _all_have(tg, users, "describe you")
    for user in users:
        tg.press(user, "subject:person")
    await _all_have(tg, users, "Checklist")


async def _all_have(tg: FakeTelegram, users: list[int], fragment: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = {s.chat_id for s in tg.sent if fragment in s.text}
        if all(user in done for user in users):
            return
        await asyncio.sleep(0.02)
    raise RuntimeError(f"not every person got {fragment!r}")


async def _round(tg: FakeTelegram, users: list[int], selfie: bytes) -> list[float]:
    seen = len(tg.sent)
    sent_at = {}
    for user in users:
        sent_at[user] = time.monotonic()
        tg.send_photo(user, selfie)
    latencies: dict[int, float] = {}
    deadline = time.monotonic() + 120
    while len(latencies) < len(users) and time.monotonic() < deadline:
        for sent in tg.sent[seen:]:
            if "so far" in sent.text and sent.chat_id not in latencies:
                latencies[sent.chat_id] = sent.at - sent_at[sent.chat_id]
        await asyncio.sleep(0.005)
    return list(latencies.values())


async def main(people: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as redis_url:
        tg = FakeTelegram()
        await tg.start()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            redis_url=redis_url, storage_url=f"file://{tmp}/blobs", telegram_token=TOKEN,  # type: ignore[arg-type]
            telegram_base_url=tg.base_url, telegram_base_file_url=tg.base_file_url,
            max_selfies=max(rounds + 1, 20),  # at least the default, so few rounds run too
        )  # fmt: skip
        stop = asyncio.Event()
        bot = asyncio.create_task(serve(settings, [telegram_front.open_front], stop))
        users = [10_000 + n for n in range(people)]
        await _prepare(tg, users)
        latencies: list[float] = []
        for selfie in _selfies()[:rounds]:
            # Replies to one chat are paced to about one a second (Telegram's limit, see
            # bot/fronts/telegram/pacing.py): without this pause rounds came every ~0.6 s and the
            # later ones measured that pacing, not the bot and its gate.
            await asyncio.sleep(ROUND_PAUSE_S)
            latencies += await _round(tg, users, selfie)
        stop.set()
        await bot
        await tg.stop()
    _report(latencies, people, rounds, settings.gate_workers)


def _report(latencies: list[float], people: int, rounds: int, workers: int) -> None:
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[max(0, round(0.95 * len(ms)) - 1)]
    print(f"{people} people sending a photo at once, {rounds} rounds, {len(ms)} verdicts, "
          f"{workers} gate processes")  # fmt: skip
    print(f"update -> verdict sent: p50 {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, "
          f"max {ms[-1]:.0f} ms")  # fmt: skip
    against.record({"verdict p50 ms": statistics.median(ms), "verdict p95 ms": p95,
                    "verdict max ms": ms[-1]})  # fmt: skip


if __name__ == "__main__":
    old = against.against()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if old is not None:
        against.compare(__file__, old)
    else:
        asyncio.run(main(args.people, args.rounds))
