"""The express tier in a real worker process: selfies in, albums out, pack quality recorded.

On the tiny FLUX.2 klein (noise, no face) the record and /metrics say "no faces"; with the model
swapped for real photos (tests/photo_studio.py) they carry the measured figures.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from redis.asyncio import Redis

from bot.chat.events import SendAlbum, SendPhoto
from core import provenance
from core.settings import Settings
from engine.jobs import (
    JobStatus,
    PackRequest,
    Tier,
    create_arq_pool,
    enqueue_pack,
    event_from_json,
)
from engine.jobs.contract import SelfieTraits
from engine.jobs.keys import job_prefix, stream_key
from engine.jobs.quality import NO_FACES, PackQuality
from engine.jobs.records import load_record, open_state
from engine.studio.likeness import SAME_PERSON_DISTANCE
from engine.studio.tiny_flux2 import write_tiny_flux2_klein
from storage.blobs_open import open_blob_store
from storage.keys import user_scope
from storage.state_redis import RedisStateStore
from tests import photos
from tests.ops_harness import metric, scrape
from tests.queue_harness import (
    RecordingSink,
    eventually,
    queue_settings,
    running_notifier,
    worker_process,
)
from tests.servers import free_port

EXPRESS_ONLY = {
    "studio": "",
    "express_studio": "engine.studio.express.backend:load_express_studio",
}


@pytest.fixture(scope="module")
def klein(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_flux2_klein(tmp_path_factory.mktemp("klein") / "model")


async def _request(settings: Settings, tier: Tier) -> PackRequest:
    blobs = open_blob_store(settings)
    scope = user_scope("telegram", "8")
    keys = []
    for index, image in enumerate((photos.grace_hopper(), photos.grace_hopper().rotate(5))):
        keys.append(f"{scope}/selfies/{index}.jpg")
        await blobs.put(keys[-1], photos.to_bytes(image))
    await blobs.close()
    return PackRequest(
        platform="telegram", chat_id="chat8", user_id="8", user_scope=scope,
        selfie_keys=tuple(keys), subject="woman", style_ids=("medical", "office-window"),
        pack_size=2, seed=3, request_id=f"express-{tier}", tier=tier,
        selfie_traits=(SelfieTraits(0.9, 2.0, 1.0, 0.5), SelfieTraits(0.7, -8.0, 3.0, 0.6)),
    )  # fmt: skip


async def test_an_express_only_worker_delivers_an_express_pack(
    tmp_path: Path, redis_url: str, klein: Path
) -> None:
    settings = queue_settings(
        tmp_path, redis_url, express_model=str(klein), ops_port=free_port(), **EXPRESS_ONLY
    )
    state, blobs, sink = open_state(redis_url), open_blob_store(settings), RecordingSink()
    request = await _request(settings, Tier.EXPRESS)
    with worker_process(settings, tmp_path, OMP_NUM_THREADS="1"):
        async with running_notifier(settings, state, blobs, sink):
            arq = await create_arq_pool(settings)
            job_id = (await enqueue_pack(arq, state, request)).job_id
            await arq.aclose()
            await eventually(lambda: _albums(sink, 2), "two albums", timeout_s=90)
            await eventually(lambda: _done(state, job_id), "the done record")
            samples = await scrape(settings.ops_port)
    # Random weights draw no face: the record and the metrics say so, with no figure at all.
    quality = await _quality(state, job_id)
    assert quality.note == NO_FACES and not quality.measured
    assert (quality.overall.images, quality.overall.faces_found, quality.overall.kept) == (6, 0, 4)
    assert quality.overall.same_person_share is None and quality.overall.median_distance is None
    assert quality.distances == ()
    measured = "headshots_packs_measured_total"
    assert metric(samples, measured, tier="express", result="no_faces") == 1
    assert metric(samples, "headshots_identity_distance_count", tier="express") == 0
    albums = sink.of(SendAlbum)
    assert [len(album.images) for album in albums] == [2, 2]
    with Image.open(io.BytesIO(albums[0].images[0])) as first:
        assert first.size == (64, 80)  # the tiny klein's side; medical's first shot is 4:5
        assert "in the reference photos" in first.info["parameters"]
    # Every delivered image says it is generated; the references, crops of selfies, do not.
    marks = {provenance.source_of(image) for album in albums for image in album.images}
    assert marks == {provenance.TRAINED_ALGORITHMIC_MEDIA}
    stored = await blobs.list_keys(job_prefix(request.user_scope, job_id))
    # The identity is the chosen reference crops, stored by name: no LoRA was trained.
    assert [key.rsplit("/", 1)[1] for key in stored if "/identity/" in key] == [
        "ref-00.png",
        "ref-01.png",
    ]
    assert not any(key.endswith(".safetensors") for key in stored)
    refs = [await blobs.get(key) for key in stored if "/identity/" in key]
    assert [provenance.source_of(ref) for ref in refs] == [None, None]
    redis = Redis.from_url(redis_url)
    kinds = [event_from_json(f[b"e"]).kind for _, f in await redis.xrange(stream_key(job_id))]
    await redis.aclose()
    assert kinds[-1] == "done" and "generating" in kinds
    await blobs.close()
    await state.close()


async def test_the_worker_records_the_pack_quality_and_exports_it_on_metrics(
    tmp_path: Path, redis_url: str
) -> None:
    photo_studio = {"studio": "", "express_studio": "tests.photo_studio:load_photo_studio"}
    settings = queue_settings(tmp_path, redis_url, ops_port=free_port(), **photo_studio)
    state, blobs, sink = open_state(redis_url), open_blob_store(settings), RecordingSink()
    request = replace(await _request(settings, Tier.EXPRESS), request_id="express-photos")
    with worker_process(settings, tmp_path, OMP_NUM_THREADS="1"):
        async with running_notifier(settings, state, blobs, sink):
            arq = await create_arq_pool(settings)
            job_id = (await enqueue_pack(arq, state, request)).job_id
            await arq.aclose()
            await eventually(lambda: _deliveries(sink, 2), "two deliveries", timeout_s=90)
            await eventually(lambda: _done(state, job_id), "the done record")
            samples = await scrape(settings.ops_port)
    # Each style judged three candidates: another shot of her (kept), a pasted selfie (a
    # near-copy, rejected) and the astronaut (another person, rejected).
    assert [type(sent) for sent in sink.albums()] == [SendPhoto, SendPhoto]  # one kept per style
    quality = await _quality(state, job_id)
    assert quality.measured and quality.note == ""
    assert [group.name for group in quality.styles] == ["medical", "office-window"]
    for group in (*quality.styles, quality.overall):
        styles = 2 if group is quality.overall else 1
        assert (group.images, group.faces_found, group.kept) == (3 * styles, 3 * styles, styles)
        assert group.near_copies == styles
        assert group.same_person_share == round(2 / 3, 4)  # her new shot and the pasted selfie
        assert group.median_distance is not None and group.p90_distance is not None
        assert group.median_distance <= SAME_PERSON_DISTANCE  # two of three are her
        assert group.p90_distance > group.median_distance  # pulled up by the astronaut
    assert len(quality.distances) == 6
    assert sum(d > SAME_PERSON_DISTANCE for d in quality.distances) == 2  # the astronauts
    measured = "headshots_packs_measured_total"
    assert metric(samples, measured, tier="express", result="faces") == 1
    assert metric(samples, "headshots_identity_distance_count", tier="express") == 6
    total = metric(samples, "headshots_identity_distance_sum", tier="express")
    assert total == pytest.approx(sum(quality.distances))
    # The histogram's buckets put the pasted selfies (under 0.1) apart from the stranger.
    low = metric(samples, "headshots_identity_distance_bucket", tier="express", le="0.1")
    assert low == 2
    assert metric(samples, "headshots_near_copies_rejected_total", tier="express") == 2
    await blobs.close()
    await state.close()


async def _done(state: RedisStateStore, job_id: str) -> bool:
    record = await load_record(state, job_id)
    return record is not None and record.status is JobStatus.DONE


async def _quality(state: RedisStateStore, job_id: str) -> PackQuality:
    record = await load_record(state, job_id)
    assert record is not None and record.quality is not None
    return record.quality


async def _deliveries(sink: RecordingSink, count: int) -> bool:
    return len(sink.albums()) >= count


async def _albums(sink: RecordingSink, count: int) -> bool:
    return len(sink.of(SendAlbum)) >= count
