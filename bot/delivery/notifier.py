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
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.chat.contact_sheet import first_number
from bot.chat.events import ChatRef, Progress
from bot.chat.sink import EffectSink, MaybeSentError
from bot.delivery.endings import Part, ending_parts
from bot.text import messages
from bot.text import progress as say
from bot.text.i18n import SLASH, speaking, t
from core.settings import Settings
from engine.jobs import Done, PackRequest, Queued, TerminalEvent, Tier, is_terminal, load_record
from engine.jobs.keys import delivery_key, delivery_tries_key, notifier_group, shown_key
from engine.jobs.queue import queued_job_ids
from engine.jobs.stream import JobStreamReader, StreamBatch, latest_event
from engine.jobs.workers import WorkerState, worker_state
from ops import metrics as ops
from storage.blobs import BlobStore
from storage.state import StateStore

log = logging.getLogger(__name__)

WORKER_CHECK_S = 5.0  # how often waiting packs are checked for a live worker
WORKER_NOTES = {
    WorkerState.LIVE: "",
    WorkerState.ABSENT: messages.NO_WORKER_NOTE,
    WorkerState.UNAVAILABLE: messages.UNAVAILABLE_NOTE,
}

FinishedHook = Callable[[ChatRef, TerminalEvent], Awaitable[None]]
GalleryLink = Callable[[PackRequest], str]
"""Returns the address of a pack's gallery (bot.fronts.gallery.links), from its request."""
SENDING_LEASE_S = 300  # a replica that died mid-upload frees the part after this
DELIVERED_TTL_S = 30 * 24 * 3600
RETRY_S = 1.0
MAYBE_SENT_TRIES = 2  # a part that may have arrived: at most one duplicate
MAX_PART_TRIES = 5  # a part that surely failed (an error the platform answered)


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
        command_prefixes: Mapping[str, str] | None = None,
        worker_check_s: float = WORKER_CHECK_S,
        gallery: GalleryLink | None = None,
    ) -> None:
        self._redis, self._state, self._blobs, self._sink = redis, state, blobs, sink
        self._prefixes = dict(command_prefixes or {})  # how each platform's commands are typed
        self._worker_check_s = worker_check_s
        self._next_worker_check = 0.0
        # Processes serving different platforms read in different groups, each acknowledging
        # the other platforms' events; replicas serving the same platforms share one group.
        self._platforms = platforms
        self._reader = JobStreamReader(redis, notifier_group(platforms), consumer, claim_idle_s)
        self._edit_interval_s = edit_interval_s
        self._block_s = block_s
        self._titles = dict(titles or {})
        self._on_finished = on_finished
        self._gallery = gallery  # None: no public address, so no gallery button
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
        command_prefixes: Mapping[str, str] | None = None,
        gallery: GalleryLink | None = None,
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
            command_prefixes=command_prefixes,
            gallery=gallery,
        )
        notifier._owns_redis = True
        return notifier

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Deliver events until `stop` is set (within about `block_s`) or the task is cancelled."""
        try:
            joined = False
            while stop is None or not stop.is_set():
                try:
                    if joined:
                        await self.step()
                    else:  # retried like a step: Redis may be restarting as the bot starts
                        await self.start()
                        joined = True
                except RedisError:  # Redis restarting: nothing is lost, the group remembers
                    log.exception("notifier lost Redis; retrying")
                    await asyncio.sleep(RETRY_S)
                except Exception:  # one bad step must not stop every later delivery
                    log.exception("notifier step failed; going on")
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
        if time.monotonic() >= self._next_worker_check:
            self._next_worker_check = time.monotonic() + self._worker_check_s
            await self._note_workers()

    async def _handle(self, batch: StreamBatch) -> None:
        job_id, events = batch.job_id, batch.events
        request = await self._request(job_id)
        served = self._platforms
        # A job of a platform another process serves is that process's, in its own group.
        theirs = request is not None and served is not None and request.platform not in served
        if request is None or not events or theirs:
            await self._reader.ack(batch)
            return
        chat = _chat_of(request)
        terminal = next((e for e in reversed(events) if is_terminal(e)), None)
        if terminal is None:
            # Only the newest state matters: intermediate events are coalesced, not queued. A
            # waiting pack's text carries its tier's worker note from the start, the same text
            # `_note_workers` computes, so the two never undo each other.
            latest, note = events[-1], ""
            if isinstance(latest, Queued):
                note = WORKER_NOTES[await worker_state(self._redis, request.tier)]
            with self._voice_of(request):
                text = say.progress_text(latest)
                self._pending[job_id] = _Edit(chat, f"{text}\n\n{t(note)}" if note else text)
            await self._reader.ack(batch)
            return
        self._pending.pop(job_id, None)
        try:
            with self._voice_of(request):
                terminal_event = cast(TerminalEvent, terminal)
                reroll = request.reroll is not None
                gallery = self._gallery(request) if self._gallery and not reroll else ""
                await self._finish(
                    job_id, chat, terminal_event, request.tier, reroll=reroll,
                    first=first_number(request), gallery=gallery,
                )  # fmt: skip
        except Exception:
            # Not acknowledged: the entry stays pending and the reader hands it out again later.
            log.exception("delivering the end of %s failed; will retry", job_id)
            ops.DELIVERY_FAILURES.inc()
            return
        await self._reader.retire(batch)

    async def _request(self, job_id: str) -> PackRequest | None:
        """Return the order of the job: where its events go, its tier and language."""
        record = await load_record(self._state, job_id)
        if record is None:
            log.warning("no record for job %s; its events are dropped", job_id)
            return None
        return record.request

    def _voice_of(self, request: PackRequest) -> AbstractContextManager[object]:
        """Write the job's texts in the person's language, naming commands as its platform does."""
        return speaking(request.language, self._prefixes.get(request.platform, SLASH))

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
        if _text(await self._redis.get(shown)) == text or await self._erased(job_id):
            return  # an edit read before /delete must not bring the message's id back
        if await self._redis.exists(_part_key(job_id, chat, 0)):
            return  # another replica already showed the end; an older step must not replace it
        self._next_edit_at[chat] = time.monotonic() + self._edit_interval_s
        await self._sink.apply(chat, [Progress(key=job_id, text=text)])
        await self._redis.set(shown, text, ex=DELIVERED_TTL_S)
        await self._unless_erased(job_id, shown)

    # ----- no live worker: said on the waiting packs' progress messages ------------------------

    async def _note_workers(self) -> None:
        """Add the workers' state to every waiting pack's message; take it off when one is back.

        Stateless on purpose: each replica (or a restarted bot) computes the same text from
        Redis, and `_edit` skips a message that already says it.
        """
        notes = {tier: WORKER_NOTES[await worker_state(self._redis, tier)] for tier in Tier}
        for job_id in await queued_job_ids(self._redis):
            if job_id in self._pending:
                continue  # a newer step is about to be shown anyway
            latest = await latest_event(self._redis, job_id)
            request = None if latest is None or is_terminal(latest) else await self._request(job_id)
            if latest is None or request is None or not self._serves(request.platform):
                continue
            note = notes[request.tier]  # the workers of the pack's own tier
            with self._voice_of(request):
                text = say.progress_text(latest)
                text = f"{text}\n\n{t(note)}" if note else text
            try:
                await self._edit(job_id, _chat_of(request), text)
            except Exception:  # a lost note is replaced by the next check; it must not end us
                log.exception("worker note for %s failed", job_id)

    def _serves(self, platform: str) -> bool:
        return self._platforms is None or platform in self._platforms

    # ----- the end: exactly once per job and chat ---------------------------------------------

    async def _finish(
        self,
        job_id: str,
        chat: ChatRef,
        event: TerminalEvent,
        tier: Tier = Tier.STUDIO,
        *,
        reroll: bool = False,
        first: int = 1,
        gallery: str = "",
    ) -> None:
        ending = ending_parts(
            job_id,
            event,
            self._blobs,
            self._titles,
            tier,
            reroll=reroll,
            first=first,
            gallery=gallery,
        )
        sent = [await self._once(job_id, i, chat, part) for i, part in enumerate(ending)]
        if isinstance(event, Done) and any(sent):  # counted by the replica that sent it
            ops.PACKS_DELIVERED.inc()
        if self._on_finished is not None:
            await self._on_finished(chat, event)

    async def _once(self, job_id: str, index: int, chat: ChatRef, part: Part) -> bool:
        """Send one part of the ending unless it was sent.

        Claim, send, then mark: the claim (SET NX with a lease) stops two replicas sending the
        same part at once; the mark makes every later try skip it; the stream entry is acked
        only after all parts are marked. A replica dying between the platform accepting a part
        and the mark is the one window for a duplicate; the lease then frees that part. Marking
        before sending would instead lose the pack in that window, which is worse.
        """
        key = _part_key(job_id, chat, index)
        if not await self._redis.set(key, "sending", nx=True, ex=SENDING_LEASE_S):
            if _text(await self._redis.get(key)) in {"sent", "given-up"}:
                return False
            raise PartBusyError(key)
        if await self._unless_erased(job_id, key):
            return False
        try:
            await self._sink.apply(chat, await part())
        except Exception as exc:
            return await self._failed(job_id, index, chat, exc)
        except BaseException:
            await self._redis.delete(key)
            raise
        await self._redis.set(key, "sent", ex=DELIVERED_TTL_S)
        await self._unless_erased(job_id, key)
        return True

    async def _failed(self, job_id: str, index: int, chat: ChatRef, exc: Exception) -> bool:
        """Count a failed try of one part; past the cap, stop trying it and go on with the rest.

        A part that may have arrived (a timeout, an unreadable answer) is tried twice at most,
        so the person sees at most one duplicate; any other failure a few times, with the
        stream's own retry pause in between. Either way the parts after it are not held up for
        good. Returns whether the part counts as sent; raises to have the ending tried again.
        """
        key = _part_key(job_id, chat, index)
        tries_key = delivery_tries_key(job_id, chat.platform, chat.chat_id, str(index))
        tries = int(await self._redis.incr(tries_key))
        await self._redis.expire(tries_key, DELIVERED_TTL_S)
        maybe_sent = isinstance(exc, MaybeSentError)
        if tries < (MAYBE_SENT_TRIES if maybe_sent else MAX_PART_TRIES):
            await self._redis.delete(key)
            raise exc
        outcome = "sent" if maybe_sent else "given-up"
        log.error("part %d of %s: %s after %d tries (%r)", index, job_id, outcome, tries, exc)
        await self._redis.set(key, outcome, ex=DELIVERED_TTL_S)
        await self._unless_erased(job_id, key, tries_key)
        return maybe_sent

    async def _unless_erased(self, job_id: str, *written: str) -> bool:
        """Delete the keys just written when the job was erased meanwhile; return whether it was.

        Erasure deletes the record before it collects the job's keys, so whichever runs second,
        this check or that collection, removes a key written in between: none outlives /delete.
        """
        if not await self._erased(job_id):
            return False
        await self._redis.delete(*written)
        return True

    async def _erased(self, job_id: str) -> bool:
        return await load_record(self._state, job_id) is None


def _chat_of(request: PackRequest) -> ChatRef:
    return ChatRef(request.platform, request.chat_id, request.user_id)


def _part_key(job_id: str, chat: ChatRef, index: int) -> str:
    return delivery_key(job_id, chat.platform, chat.chat_id, str(index))


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)
