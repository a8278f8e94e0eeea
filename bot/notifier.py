"""Turns job progress streams into chat effects: progress edits, the delivered pack, endings.

Every bot replica runs one Notifier; its `engine.jobs.stream.JobStreamReader` reads all live job
streams in one consumer group, so replicas share the work and a restarted bot resumes where the
group stopped: events published while no bot ran are still undelivered and come on the next read.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot import progress_text as say
from bot.endings import Part, ending_parts
from bot.events import ChatRef, Progress
from bot.sink import EffectSink
from core.settings import Settings
from engine.jobs import Done, TerminalEvent, Tier, is_terminal, load_record
from engine.jobs.keys import delivery_key, notifier_group, shown_key
from engine.jobs.stream import JobStreamReader, StreamBatch
from ops import metrics as ops
from storage.blobs import BlobStore
from storage.state import StateStore

log = logging.getLogger(__name__)

FinishedHook = Callable[[ChatRef, TerminalEvent], Awaitable[None]]
SENDING_LEASE_S = 300  # a replica that died mid-upload frees the part after this
DELIVERED_TTL_S = 30 * 24 * 3600
RETRY_S = 1.0


class PartBusyError(Exception):
    """Another replica is sending this part right now; try the event again later."""


@dataclass(frozen=True)
class _Edit:
    chat: ChatRef
    text: str


class Notifier:
    """Reads job events with a consumer group and hands effects to the sink."""

    def __init__(
        self,
        redis: Redis,
        state: StateStore,
        blobs: BlobStore,
        sink: EffectSink,
        *,
        consumer: str,
        edit_interval_s: float = 1.0,
        claim_idle_s: float = 60.0,
        block_s: float = 1.0,
        titles: Mapping[str, str] | None = None,
        on_finished: FinishedHook | None = None,
        platforms: frozenset[str] | None = None,
    ) -> None:
        self._redis, self._state, self._blobs, self._sink = redis, state, blobs, sink
        # Processes serving different platforms read in different groups, each acknowledging
        # the other platforms' events; replicas serving the same platforms share one group.
        self._platforms = platforms
        self._reader = JobStreamReader(redis, notifier_group(platforms), consumer, claim_idle_s)
        self._edit_interval_s = edit_interval_s
        self._block_s = block_s
        self._titles = dict(titles or {})
        self._on_finished = on_finished
        self._pending: dict[str, _Edit] = {}  # job id -> the newest progress not shown yet
        self._next_edit_at: dict[ChatRef, float] = {}
        self._owns_redis = False

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        state: StateStore,
        blobs: BlobStore,
        sink: EffectSink,
        *,
        titles: Mapping[str, str] | None = None,
        on_finished: FinishedHook | None = None,
        platforms: frozenset[str] | None = None,
    ) -> Notifier:
        """Build a notifier with its own Redis connection, closed when `run` ends."""
        notifier = cls(
            Redis.from_url(settings.redis_url),
            state,
            blobs,
            sink,
            consumer=settings.notifier_consumer or socket.gethostname(),
            edit_interval_s=settings.notifier_edit_interval_s,
            claim_idle_s=settings.notifier_claim_idle_s,
            titles=titles,
            on_finished=on_finished,
            platforms=platforms,
        )
        notifier._owns_redis = True
        return notifier

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Deliver events until `stop` is set (within about `block_s`) or the task is cancelled."""
        try:
            await self.start()
            while stop is None or not stop.is_set():
                try:
                    await self.step()
                except RedisError:  # Redis restarting: nothing is lost, the group remembers
                    log.exception("notifier lost Redis; retrying")
                    await asyncio.sleep(RETRY_S)
        finally:
            if self._owns_redis:
                await self._redis.aclose()

    async def start(self) -> None:
        """Join the group and take back this consumer's unacknowledged events from before."""
        for batch in await self._reader.join():
            await self._handle(batch)

    async def step(self) -> None:
        """Read once (blocking until an event or the next due edit), then show what is due."""
        for batch in await self._reader.read(self._wait_s()):
            await self._handle(batch)
        await self._flush_due()

    async def _handle(self, batch: StreamBatch) -> None:
        job_id, events = batch.job_id, batch.events
        chat, tier, reroll = await self._chat(job_id)
        if (
            chat is not None
            and self._platforms is not None
            and chat.platform not in self._platforms
        ):
            chat = None  # another process serves that platform, in its own group
        if chat is None or not events:
            await self._reader.ack(batch)
            return
        terminal = next((e for e in reversed(events) if is_terminal(e)), None)
        if terminal is None:
            # Only the newest state matters: intermediate events are coalesced, not queued.
            self._pending[job_id] = _Edit(chat, say.progress_text(events[-1]))
            await self._reader.ack(batch)
            return
        self._pending.pop(job_id, None)
        try:
            await self._finish(job_id, chat, cast(TerminalEvent, terminal), tier, reroll=reroll)
        except Exception:
            # Not acknowledged: the entry stays pending and the reader hands it out again later.
            log.exception("delivering the end of %s to %s failed; will retry", job_id, chat)
            ops.DELIVERY_FAILURES.inc()
            return
        await self._reader.retire(batch)

    async def _chat(self, job_id: str) -> tuple[ChatRef | None, Tier, bool]:
        """Return where the job's events go, the tier of its pack, and whether it is a re-roll."""
        record = await load_record(self._state, job_id)
        if record is None:
            log.warning("no record for job %s; its events are dropped", job_id)
            return None, Tier.STUDIO, False
        request = record.request
        chat = ChatRef(request.platform, request.chat_id, request.user_id)
        return chat, request.tier, request.reroll is not None

    # ----- progress edits -------------------------------------------------------------------

    def _wait_s(self) -> float:
        if not self._pending:
            return self._block_s
        due = min(self._next_edit_at.get(edit.chat, 0.0) for edit in self._pending.values())
        return min(self._block_s, max(due - time.monotonic(), 0.001))

    async def _flush_due(self) -> None:
        now = time.monotonic()
        if len(self._next_edit_at) > 10_000:  # forget chats whose pause is long over
            self._next_edit_at = {c: t for c, t in self._next_edit_at.items() if t > now}
        for job_id, edit in list(self._pending.items()):
            if now >= self._next_edit_at.get(edit.chat, 0.0):
                del self._pending[job_id]
                try:
                    await self._edit(job_id, edit.chat, edit.text)
                except Exception:  # a lost edit is replaced by the next one
                    log.exception("progress edit for %s failed", job_id)

    async def _edit(self, job_id: str, chat: ChatRef, text: str) -> None:
        """Edit the job's progress message unless it already says exactly this."""
        shown = shown_key(job_id)
        if _text(await self._redis.get(shown)) == text:
            return
        if await self._redis.exists(_part_key(job_id, chat, 0)):
            return  # another replica already showed the end; an older step must not replace it
        self._next_edit_at[chat] = time.monotonic() + self._edit_interval_s
        await self._sink.apply(chat, [Progress(key=job_id, text=text)])
        await self._redis.set(shown, text, ex=DELIVERED_TTL_S)

    # ----- the end: exactly once per job and chat ---------------------------------------------

    async def _finish(
        self,
        job_id: str,
        chat: ChatRef,
        event: TerminalEvent,
        tier: Tier = Tier.STUDIO,
        *,
        reroll: bool = False,
    ) -> None:
        ending = ending_parts(job_id, event, self._blobs, self._titles, tier, reroll=reroll)
        parts = enumerate(ending)
        sent = [await self._once(_part_key(job_id, chat, i), chat, part) for i, part in parts]
        if isinstance(event, Done) and any(sent):  # counted by the replica that sent it
            ops.PACKS_DELIVERED.inc()
        if self._on_finished is not None:
            await self._on_finished(chat, event)

    async def _once(self, key: str, chat: ChatRef, part: Part) -> bool:
        """Send one part of the ending unless it was sent.

        Claim, send, then mark: the claim (SET NX with a lease) stops two replicas sending the
        same part at once; the mark makes every later try skip it; the stream entry is acked
        only after all parts are marked. A replica dying between the platform accepting a part
        and the mark is the one window for a duplicate; the lease then frees that part. Marking
        before sending would instead lose the pack in that window, which is worse.
        """
        if not await self._redis.set(key, "sending", nx=True, ex=SENDING_LEASE_S):
            if _text(await self._redis.get(key)) == "sent":
                return False
            raise PartBusyError(key)
        try:
            await self._sink.apply(chat, await part())
        except BaseException:
            await self._redis.delete(key)
            raise
        await self._redis.set(key, "sent", ex=DELIVERED_TTL_S)
        return True


def _part_key(job_id: str, chat: ChatRef, index: int) -> str:
    return delivery_key(job_id, chat.platform, chat.chat_id, str(index))


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)
