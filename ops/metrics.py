"""Prometheus metrics of the bot and the worker; each process exposes its own on /metrics.

Metrics are module-level objects in prometheus-client's default registry, the library's own
idiom: a counter increment is one line wherever the event happens, and Prometheus sums the
processes. This module imports nothing heavy, so the bot process may load it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram
from redis.asyncio import Redis

from engine.jobs.contract import Tier
from engine.jobs.quality import NO_FACES, PackQuality
from engine.jobs.queue import oldest_wait_s, queue_length
from engine.jobs.workers import live_workers

STAGE_BUCKETS_S = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
# dlib descriptor distance: the same person 0.08-0.53, different people from 0.65 (REFERENCE.md);
# the selection drops faces past 0.55, near-copies sit under 0.10.
DISTANCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 1.0)

QUEUE_LENGTH = Gauge(
    "headshots_queue_length", "Packs queued or running in a tier's queue (KEDA scales on it).",
    ["tier"],
)  # fmt: skip
QUEUE_OLDEST_WAIT = Gauge(
    "headshots_queue_oldest_wait_seconds",
    "Seconds the longest-waiting pack of a tier not yet started has waited (0: none waits).",
    ["tier"],
)
WORKERS_LIVE = Gauge(
    "headshots_workers_live", "Workers of a tier whose heartbeat is fresh.", ["tier"]
)
STAGE_SECONDS = Histogram(
    "headshots_stage_seconds",
    "Seconds one stage of a pack took on the worker.",
    ["stage"],
    buckets=STAGE_BUCKETS_S,
)
PHOTOS = Counter(
    "headshots_photos",
    "Selfies checked by the quality gate, by verdict and reason code ('ok' when none); a photo"
    " with two reasons counts under both.",
    ["verdict", "reason"],
)
PACKS_FINISHED = Counter(
    "headshots_packs_finished", "Packs the worker ended, by outcome.", ["outcome"]
)
PACK_FAILURES = Counter(
    "headshots_pack_failures", "Packs that failed, by cause (stage, timeout, crashed, empty).",
    ["code"],
)  # fmt: skip
PACKS_DELIVERED = Counter("headshots_packs_delivered", "Packs whose albums reached the chat.")
DELIVERY_FAILURES = Counter(
    "headshots_delivery_failures", "Endings the notifier failed to send (retried later)."
)
GPU_MEMORY = Gauge(
    "headshots_gpu_memory_bytes",
    "GPU memory held by this process: allocated by tensors, reserved by the allocator.",
    ["device", "kind"],
)

IDENTITY_DISTANCE = Histogram(
    "headshots_identity_distance",
    "Identity distance of each generated face to the person's selfies (dlib descriptor, to their"
    " centroid), by tier; every candidate a face was found in, kept or not.",
    ["tier"],
    buckets=DISTANCE_BUCKETS,
)
NEAR_COPIES = Counter(
    "headshots_near_copies_rejected",
    "Generated images the selection rejected as near-copies of one selfie, by tier.",
    ["tier"],
)
PACKS_MEASURED = Counter(
    "headshots_packs_measured",
    "Packs whose candidates the selection judged, by tier and result: 'faces' (measured),"
    " 'no_faces' (none found in any candidate, e.g. a tiny random model) or 'not_measured'.",
    ["tier", "result"],
)


def observe_pack_quality(tier: str, quality: PackQuality) -> None:
    """Feed one pack's judged faces to the quality metrics; a pack without faces says only so."""
    PACKS_MEASURED.labels(tier, _measured_as(quality)).inc()
    if not quality.measured:
        return  # no zeros that would read as measurements
    for distance in quality.distances:
        IDENTITY_DISTANCE.labels(tier).observe(distance)
    NEAR_COPIES.labels(tier).inc(quality.overall.near_copies)


def _measured_as(quality: PackQuality) -> str:
    if quality.measured:
        return "faces"
    return "no_faces" if quality.note == NO_FACES else "not_measured"


def count_photo(verdict: str, codes: Iterable[str]) -> None:
    """Count one checked selfie under each of its reason codes."""
    reasons = list(codes) or ["ok"]
    for reason in reasons:
        PHOTOS.labels(verdict, reason).inc()


async def refresh(redis: Redis | None) -> None:
    """Update the gauges read at scrape time: each tier's queue and workers, and GPU memory."""
    if redis is not None:
        for tier in Tier:
            QUEUE_LENGTH.labels(tier).set(await queue_length(redis, tier))
            QUEUE_OLDEST_WAIT.labels(tier).set(await oldest_wait_s(redis, tier))
            WORKERS_LIVE.labels(tier).set(await live_workers(redis, tier))
    refresh_gpu_memory()


def refresh_gpu_memory() -> None:
    """Read CUDA memory if this process already loaded torch (the bot never does)."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return
    for index in range(torch.cuda.device_count()):
        device = f"cuda:{index}"
        GPU_MEMORY.labels(device, "allocated").set(torch.cuda.memory_allocated(index))
        GPU_MEMORY.labels(device, "reserved").set(torch.cuda.memory_reserved(index))
