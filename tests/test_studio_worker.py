"""The real studio in a real worker process on the tiny model: from selfies to albums in chat."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from redis.asyncio import Redis

from bot.chat.events import SendAlbum
from engine.jobs import PackRequest, create_arq_pool, enqueue_pack, event_from_json
from engine.jobs.keys import stream_key
from engine.jobs.records import open_state
from storage.blobs_open import open_blob_store
from storage.keys import user_scope
from tests import photos
from tests.queue_harness import (
    RecordingSink,
    eventually,
    queue_settings,
    running_notifier,
    worker_process,
)
from tests.tiny_models import tiny_model_dir


async def test_the_worker_delivers_a_pack_made_by_the_real_studio(
    tmp_path: Path, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    model = tiny_model_dir(tmp_path_factory, "sdxl")
    settings = queue_settings(
        tmp_path,
        redis_url,
        studio="engine.studio.lora.backend:load_studio",
        base_model=str(model),
        train_max_steps=3,
        pack_timeout_s=120,
    )
    blobs, state = open_blob_store(settings), open_state(redis_url)
    scope = user_scope("telegram", "7")
    keys = []
    for index, image in enumerate((photos.grace_hopper(), photos.grace_hopper().rotate(5))):
        keys.append(f"{scope}/selfies/{index}.jpg")
        await blobs.put(keys[-1], photos.to_bytes(image))
    request = PackRequest(
        platform="telegram",
        chat_id="chat7",
        user_id="7",
        user_scope=scope,
        selfie_keys=tuple(keys),
        subject="woman",
        style_ids=("medical", "bw-editorial"),
        pack_size=2,
        seed=11,
        request_id="real-studio",
    )
    sink = RecordingSink()
    with worker_process(settings, tmp_path, OMP_NUM_THREADS="1"):  # torch: one thread
        async with running_notifier(settings, state, blobs, sink):
            arq = await create_arq_pool(settings)
            job_id = (await enqueue_pack(arq, state, request)).job_id
            await arq.aclose()
            await eventually(lambda: _albums(sink, 2), "two albums", timeout_s=90)
    albums = sink.of(SendAlbum)
    assert [len(album.images) for album in albums] == [2, 2]
    with Image.open(io.BytesIO(albums[0].images[0])) as first:
        assert first.size == (112, 144)  # 4:5 at the tiny model's 128 px
    redis = Redis.from_url(redis_url)
    entries = await redis.xrange(stream_key(job_id))
    await redis.aclose()
    steps = [getattr(event_from_json(f[b"e"]), "step", None) for _, f in entries]
    assert 3 in steps  # progress came from the real training loop
    await state.close()


async def _albums(sink: RecordingSink, count: int) -> bool:
    return len(sink.of(SendAlbum)) >= count
