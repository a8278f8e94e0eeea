"""Scale-out with real processes: two bot replicas and two workers share one redis-server and one
S3-compatible store (moto's server), and serve 10 people at once with every pack delivered once.

Two Telegram pollers cannot share one bot token (getUpdates answers only one), so the replicas
run in webhook mode, as behind a reverse proxy: the fake Bot API posts each update to a replica
with the secret token header. Updates of one chat always go to the same replica, as a proxy that
routes by chat would do: a person's own updates (an album's photos) must not race in two
processes. Delivery is shared: both replicas read every job's progress in one consumer group.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import boto3
import pytest
from aiohttp import ClientSession
from PIL import ImageOps

from core.settings import Settings
from tests import photos
from tests.fake_telegram import TOKEN, FakeTelegram, Sent
from tests.ops_harness import (
    headshots,
    is_pack,
    metric,
    off_loop,
    order_pack,
    scrape,
)
from tests.queue_harness import queue_settings
from tests.servers import free_port

PEOPLE = range(5001, 5011)
SECRET = "scale-out-webhook-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookTelegram(FakeTelegram):
    """The fake Bot API in webhook mode: updates are posted to the replicas, never polled."""

    def __init__(self) -> None:
        super().__init__()
        self.webhooks: list[str] = []
        self.refused: list[int] = []
        self._outboxes: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self._senders: list[asyncio.Task[None]] = []

    async def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        assert params.get("secret_token") == SECRET, "webhook set without the secret"
        url = str(params["url"])
        if url not in self.webhooks:
            self.webhooks.append(url)
            self._outboxes[url] = asyncio.Queue()
            self._senders.append(asyncio.create_task(self._send_all(url)))
        return True

    def _push(self, update: dict[str, Any]) -> None:
        update = {"update_id": len(self.updates) + 1, **update}
        self.updates.append(update)
        body = update.get("message") or update["callback_query"]["message"]
        chat_id = int(body["chat"]["id"])
        self._outboxes[self.webhooks[chat_id % len(self.webhooks)]].put_nowait(update)

    def press(self, user_id: int, data: str) -> None:
        """Press the newest button carrying `data` in this person's own chat."""
        mine = [s for s in self.sent if s.chat_id == user_id]
        others, self.sent = self.sent, mine
        try:
            super().press(user_id, data)
        finally:
            self.sent = others

    async def _send_all(self, url: str) -> None:
        async with ClientSession() as http:
            while True:
                update = await self._outboxes[url].get()
                async with http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as reply:
                    if reply.status != 200:
                        self.refused.append(reply.status)

    async def stop(self) -> None:
        for sender in self._senders:
            sender.cancel()
        await asyncio.gather(*self._senders, return_exceptions=True)
        await super().stop()


@pytest.fixture
async def telegram() -> AsyncIterator[WebhookTelegram]:
    fake = WebhookTelegram()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def shared(tmp_path: Path, redis_url: str, s3_endpoint: str, telegram: WebhookTelegram) -> Settings:
    bucket = f"scale-{uuid.uuid4().hex[:10]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    s3.create_bucket(Bucket=bucket)
    (tmp_path / bucket).mkdir()  # the stand-in studio logs its calls beside the "blob root"
    return queue_settings(
        tmp_path, redis_url, storage_url=f"s3://{bucket}/prod", s3_endpoint_url=s3_endpoint,
        s3_access_key_id="testing", s3_secret_access_key="testing",
        telegram_token=TOKEN, telegram_base_url=telegram.base_url,
        telegram_base_file_url=telegram.base_file_url, telegram_webhook_secret=SECRET,
        telegram_webhook_listen="127.0.0.1", min_selfies=2, max_selfies=4, gate_workers=1,
        album_wait_s=0.3,
    )  # fmt: skip


def _bot(shared: Settings, name: str) -> Settings:
    port = free_port()
    return shared.model_copy(
        update={
            "telegram_webhook_url": f"http://127.0.0.1:{port}/telegram",
            "telegram_webhook_port": port,
            "notifier_consumer": name,
            "ops_port": free_port(),
        }
    )


def _pack_photos(tg: FakeTelegram, chat_id: int) -> list[Sent]:
    return [s for s in tg.sent if s.chat_id == chat_id and is_pack(s)]


async def _journey(tg: WebhookTelegram, user: int, selfies: list[bytes]) -> None:
    await order_pack(tg, user, selfies)
    await tg.wait_for(lambda s: s.chat_id == user and is_pack(s), timeout_s=300)
    # The retouch is made in the bot's image pool beside the pack, so on a loaded machine it can
    # arrive after the (stand-in, fast) pack: wait for it rather than for a fixed time.
    await tg.wait_for(lambda s: s.chat_id == user and _is_retouch(s), timeout_s=120)


def _is_retouch(sent: Sent) -> bool:
    return bool(sent.photos) and "instant studio retouch" in sent.text


async def test_two_bots_and_two_workers_deliver_every_pack_once(
    telegram: WebhookTelegram, shared: Settings, tmp_path: Path
) -> None:
    bots = [_bot(shared, "bot-1"), _bot(shared, "bot-2")]
    workers = [shared.model_copy(update={"ops_port": free_port()}) for _ in range(2)]
    face = photos.astronaut()
    selfies = [photos.to_bytes(face), photos.to_bytes(ImageOps.mirror(face))]
    async with AsyncExitStack() as stack:
        for settings in workers:
            worker = headshots(["worker"], settings, tmp_path, STANDIN_STEP_S="0.02")
            await stack.enter_async_context(off_loop(worker))
        for settings in bots:
            await stack.enter_async_context(off_loop(headshots(["telegram"], settings, tmp_path)))
        assert sorted(telegram.webhooks) == sorted(str(b.telegram_webhook_url) for b in bots)
        await asyncio.gather(*(_journey(telegram, user, selfies) for user in PEOPLE))
        await _bot_metrics_once_delivered(bots)
        await asyncio.sleep(2.0)  # a duplicate from the other replica would arrive by now
        bot_metrics = [await scrape(b.ops_port) for b in bots]
        worker_metrics = [await scrape(w.ops_port) for w in workers]
        forged = await _post_without_secret(bots[0])
    for user in PEOPLE:
        pack = _pack_photos(telegram, user)
        assert sum(s.photos for s in pack) == 4, (user, [(s.method, s.photos) for s in pack])
        mine = [s for s in telegram.sent if s.chat_id == user]
        retouch = [s for s in mine if _is_retouch(s)]
        assert len(retouch) == 1, user
    delivered = [metric(m, "headshots_packs_delivered_total") for m in bot_metrics]
    done = [metric(m, "headshots_packs_finished_total", outcome="done") for m in worker_metrics]
    assert sum(delivered) == len(PEOPLE), delivered
    assert sum(done) == len(PEOPLE), done
    assert all(count > 0 for count in done), f"one worker did every pack: {done}"
    photos_checked = [metric(m, "headshots_photos_total") for m in bot_metrics]
    assert all(count > 0 for count in photos_checked), photos_checked
    assert telegram.refused == []
    assert forged == 403
    print(f"\npacks delivered per bot {delivered}, made per worker {done}")


async def _bot_metrics_once_delivered(bots: list[Settings]) -> None:
    """Wait until the replicas' delivered counters add up (the last part may lag)."""
    for _ in range(300):
        samples = [await scrape(b.ops_port) for b in bots]
        if sum(metric(m, "headshots_packs_delivered_total") for m in samples) >= len(PEOPLE):
            return
        await asyncio.sleep(0.1)


async def _post_without_secret(bot: Settings) -> int:
    update = {"update_id": 99999, "message": {"message_id": 1, "date": 0, "text": "/start",
              "chat": {"id": 1, "type": "private"}, "from": {"id": 1, "is_bot": False,
              "first_name": "Mallory"}}}  # fmt: skip
    async with ClientSession() as http:
        url = str(bot.telegram_webhook_url)
        async with http.post(url, json=update, headers={SECRET_HEADER: "guess"}) as reply:
            return reply.status
