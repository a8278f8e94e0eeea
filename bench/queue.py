"""Queue latencies on a real redis-server: enqueue, pick-up by a real worker, event to the sink.

    python bench/queue.py [--jobs 40] [--chats 20] [--steps 12] [--poll-delay 0.5]

1. enqueue: `enqueue_pack` end to end (record, stream, arq job, queued event), one job at a time.
2. pick-up: from enqueue to the first event the worker process publishes for the job (an instant
   studio, so the figure is the queue's, not the GPU's). arq polls every `--poll-delay` seconds.
3. event to sink: `--chats` jobs each publish a training step every ~1.2 s (just above the
   notifier's 1 s edit interval, so no event is held back by the throttle); a notifier with the
   production settings hands them to a sink that timestamps each effect.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and would shadow the stdlib `queue`.
sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Sequence

from redis.asyncio import Redis

from bot.chat.events import ChatRef, Effect, Progress
from bot.delivery.notifier import Notifier
from bot.text.progress import progress_text
from core.settings import Settings
from engine.jobs import Training, create_arq_pool, enqueue_pack, event_from_json, publish_event
from engine.jobs.keys import record_key, stream_key
from engine.jobs.records import open_state
from engine.jobs.stream import open_stream
from storage.blobs_open import open_blob_store
from storage.state_redis import RedisStateStore
from tests.queue_harness import stored_request, worker_process
from tests.servers import redis_server


class StampSink:
    """Records when each progress text reached it."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, str], float] = {}

    async def apply(self, chat: ChatRef, effects: Sequence[Effect]) -> None:
        now = time.time()
        for effect in effects:
            if isinstance(effect, Progress):
                self.arrived.setdefault((effect.key, effect.text), now)


def _stats(name: str, values_ms: list[float]) -> str:
    values = sorted(values_ms)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    median = statistics.median(values)
    figures = f"p50={median:8.2f} ms  p95={p95:8.2f} ms  max={values[-1]:8.2f} ms"
    return f"{name:<14} n={len(values):<5} {figures}"


async def _first_event_at(redis: Redis, job_id: str, after_id: str) -> tuple[float, bool]:
    while True:
        entries = await redis.xrange(stream_key(job_id), min=f"({after_id}")
        if entries:
            events = [event_from_json(fields[b"e"]) for _, fields in entries]
            return events[0].at, any(e.kind == "done" for e in events)
        await asyncio.sleep(0.001)


async def _finished(state: RedisStateStore, job_id: str) -> None:
    for _ in range(20_000):
        record = await state.get(record_key(job_id))
        if record is not None and record.get("status") == "done":
            return
        await asyncio.sleep(0.005)
    raise RuntimeError(f"job {job_id} did not finish")


async def enqueue_and_pickup(
    settings: Settings, workdir: Path, jobs: int
) -> tuple[list[float], list[float]]:
    """Return enqueue and pick-up latencies in ms, one job in the queue at a time."""
    arq, state, blobs = (
        await create_arq_pool(settings),
        open_state(settings.redis_url),
        open_blob_store(settings),
    )
    enqueue_ms, pickup_ms = [], []
    try:
        with worker_process(settings, workdir, STANDIN_STEP_S="0"):
            for index in range(jobs):
                request = await stored_request(blobs, f"bench-{index}", user=str(index))
                # Arrive at a random point of the worker's poll cycle, as real orders do.
                await asyncio.sleep(random.uniform(0, settings.worker_poll_delay_s))
                started = time.time()
                await enqueue_pack(arq, state, request)
                enqueue_ms.append((time.time() - started) * 1000)
                queued_id = (await arq.xrange(stream_key(request.job_id)))[-1][0].decode()
                first_at, _ = await _first_event_at(arq, request.job_id, queued_id)
                pickup_ms.append((first_at - started) * 1000)
                await _finished(state, request.job_id)
    finally:
        await arq.aclose()
        await state.close()
    return enqueue_ms, pickup_ms


async def event_to_sink(settings: Settings, chats: int, steps: int) -> list[float]:
    """Return publish-to-sink latencies in ms for unthrottled progress events."""
    redis = Redis.from_url(settings.redis_url)
    state, blobs = open_state(settings.redis_url), open_blob_store(settings)
    sink = StampSink()
    published: dict[tuple[str, str], float] = {}
    jobs = []
    for index in range(chats):
        request = await stored_request(blobs, f"sink-{index}", user=f"9{index}")
        await state.put(
            record_key(request.job_id), {"job_id": request.job_id, "request": request.to_json()}
        )
        await open_stream(redis, request.job_id, 3600)
        jobs.append(request.job_id)
    notifier = Notifier(
        redis,
        state,
        blobs,
        sink,
        consumer="bench",
        edit_interval_s=settings.notifier_edit_interval_s,
    )
    stop = asyncio.Event()
    runner = asyncio.create_task(notifier.run(stop))

    async def publisher(job_id: str) -> None:
        await asyncio.sleep(random.uniform(0, 1.2))
        for step in range(1, steps + 1):
            event = Training(job_id=job_id, step=step, total=steps, eta_s=600.0 - step)
            published[(job_id, progress_text(event))] = event.at
            await publish_event(redis, event, 3600)
            await asyncio.sleep(1.2 + random.uniform(0, 0.1))

    await asyncio.gather(*(publisher(job_id) for job_id in jobs))
    await asyncio.sleep(1.5)
    stop.set()
    await runner
    await redis.aclose()
    await state.close()
    missing = sum(key not in sink.arrived for key in published)
    if missing:
        print(f"note: {missing} of {len(published)} events were coalesced, not shown")
    return [(sink.arrived[key] - at) * 1000 for key, at in published.items() if key in sink.arrived]


def main() -> int:
    """Start a throwaway redis-server, run the three measurements, print them."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument(
        "--poll-delay", type=float, default=0.5, help="arq's poll delay (production default 0.5)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as url:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            redis_url=url,
            storage_url=f"file://{tmp}/blobs",
            studio="tests.standin_studio:load_standin",
            worker_poll_delay_s=args.poll_delay,
        )
        enqueue_ms, pickup_ms = asyncio.run(enqueue_and_pickup(settings, Path(tmp), args.jobs))
        sink_ms = asyncio.run(event_to_sink(settings, args.chats, args.steps))
    print(f"real redis-server, worker poll delay {args.poll_delay} s, notifier edit interval 1.0 s")
    print(_stats("enqueue", enqueue_ms))
    print(_stats("pick-up", pickup_ms))
    print(_stats("event-to-sink", sink_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
