"""What the contact sheet's buttons do: keep, more like this, re-roll a style, and Done (a ZIP).

Every press names a job and an image number; the job must be the presser's own (its record's
scope is theirs) and delivered (its latest event is Done), or the press reaches nothing and is
answered politely. Re-rolls are small jobs on the same queue (engine/worker/reroll_job.py).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from redis.asyncio import Redis

from bot.chat.contact_sheet import (
    MORE_LIKE_COUNT,
    SheetAlbum,
    SheetPress,
    controls,
    first_number,
    image_at,
    sheet_albums,
)
from bot.chat.events import ChatRef, Effect, Reply, SendFiles
from bot.chat.session import Session, Stage
from bot.images.pool import ImagePool
from bot.service.limits import Limits, count_reroll, reroll_refusal
from bot.service.pack_queue import PackQueue
from bot.service.zip_parts import zip_parts
from bot.text import files as names
from bot.text import messages as say
from bot.text.i18n import t
from engine.jobs import Done, JobRecord, PackAlreadyActiveError, load_record
from engine.jobs.contract import Reroll
from engine.jobs.keys import kept_key, numbering_key
from engine.jobs.stream import latest_event
from storage.blobs import BlobStore
from storage.state import JsonDict, StateStore

TELEGRAM_UPLOAD_BYTES = 50 * 1000 * 1000  # bots upload at most 50 MB per file
DEFAULT_UPLOAD_BYTES = TELEGRAM_UPLOAD_BYTES


@dataclass(frozen=True)
class SheetOptions:
    """How the contact sheet behaves in this deployment (from settings)."""

    brand_colour: str = "#0A66C2"
    kept_ttl_s: int = 7 * 86400  # as long as the results it names
    upload_bytes: Mapping[str, int] = field(
        default_factory=lambda: {"telegram": TELEGRAM_UPLOAD_BYTES, "discord": 10 * 1024 * 1024}
    )


@dataclass(frozen=True)
class SheetOutcome:
    """The effects of a press and, when a re-roll was queued, the session to save."""

    effects: list[Effect]
    session: Session | None = None


@dataclass(frozen=True)
class Delivered:
    """A delivered job of the presser's own."""

    record: JobRecord
    done: Done

    @property
    def identity_job_id(self) -> str:
        """Return the pack whose identity artifact its images came from."""
        reroll = self.record.request.reroll
        return reroll.identity_job_id if reroll is not None else self.record.job_id

    @property
    def albums(self) -> list[SheetAlbum]:
        """Return its albums, numbered as their sheets show them."""
        return sheet_albums(self.done, first_number(self.record.request))

    def image(self, number: int) -> tuple[SheetAlbum, str] | None:
        """Return the album and blob key of its image `number`, None if it has no such image."""
        return image_at(self.done, number, first_number(self.record.request))

    @property
    def after(self) -> int:
        """Return the number after its last image."""
        return first_number(self.record.request) + sum(len(r.keys) for r in self.done.results)


@dataclass(frozen=True)
class Presser:
    """Who pressed: their chat, their scope and their conversation."""

    chat: ChatRef
    scope: str
    session: Session


@dataclass(frozen=True)
class SheetStores:
    """The resources the desk uses, created once at start."""

    state: StateStore
    blobs: BlobStore
    images: ImagePool
    redis: Redis
    queue: PackQueue


class SheetDesk:
    """Carries out contact-sheet presses for one deployment."""

    def __init__(
        self, stores: SheetStores, limits: Limits, titles: Mapping[str, str], options: SheetOptions
    ) -> None:
        self._s = stores
        self._limits = limits
        self._titles = dict(titles)
        self._options = options

    async def press(
        self, chat: ChatRef, scope: str, session: Session, press: SheetPress
    ) -> SheetOutcome:
        """Answer one press; another person's job, or a deleted one, answers SHEET_GONE."""
        job = await self._delivered(scope, press.job_id)
        if job is not None and press.verb == "zip":
            return SheetOutcome(await self._zip(chat, scope, job))
        number = press.number
        if job is None or number is None:
            return SheetOutcome([Reply(t(say.SHEET_GONE))])
        if press.verb == "keep":
            return SheetOutcome(await self._keep(scope, job, number))
        order = self._more(job, number) if press.verb == "more" else self._again(job, number)
        if order is None:
            return SheetOutcome([Reply(t(say.SHEET_GONE))])
        return await self._start(Presser(chat, scope, session), job, order)

    async def _delivered(self, scope: str, job_id: str) -> Delivered | None:
        record = await load_record(self._s.state, job_id)
        if record is None or record.request.user_scope != scope:
            return None  # not theirs, or erased: the same answer, so nothing leaks
        done = await latest_event(self._s.redis, job_id)
        return Delivered(record, done) if isinstance(done, Done) else None

    # ----- keep ---------------------------------------------------------------------------------

    async def _keep(self, scope: str, job: Delivered, number: int) -> list[Effect]:
        found = job.image(number)
        if found is None:
            return [Reply(t(say.SHEET_GONE))]
        entry = f"{job.record.job_id}:{number}"

        def toggle(doc: JsonDict | None) -> JsonDict:
            kept = list((doc or {}).get("kept", []))
            return {"kept": [e for e in kept if e != entry] if entry in kept else [*kept, entry]}

        doc = await self._s.state.update(kept_key(scope), toggle, ttl_s=self._options.kept_ttl_s)
        kept = _numbers_of(job.record.job_id, (doc or {}).get("kept", []))
        return [controls(job.record.job_id, found[0], kept, self._titles)]

    # ----- more like this, re-roll a style ------------------------------------------------------

    def _more(self, job: Delivered, number: int) -> _RerollOrder | None:
        """Return the order for variations of image `number`, None if the job has none."""
        found = job.image(number)
        if found is None:
            return None
        album, key = found
        started = t(say.SHEET_MORE_STARTED, count=MORE_LIKE_COUNT, number=number)
        reroll = Reroll(job.identity_job_id, job.record.job_id, key)
        return _RerollOrder(album.style_id, MORE_LIKE_COUNT, reroll, started)

    def _again(self, job: Delivered, album_number: int) -> _RerollOrder | None:
        """Return the order for a fresh set of an album's style, None if there is no such album."""
        albums = job.albums
        if not 1 <= album_number <= len(albums):
            return None
        style_id, count = albums[album_number - 1].style_id, job.record.request.pack_size
        title = say.style_title(style_id, self._titles)
        started = t(say.SHEET_REROLL_STARTED, title=title, count=count)
        reroll = Reroll(job.identity_job_id, job.record.job_id)
        return _RerollOrder(style_id, count, reroll, started)

    async def _start(self, who: Presser, job: Delivered, order: _RerollOrder) -> SheetOutcome:
        chat, scope, session = who.chat, who.scope, who.session
        # One job at a time per person; an upgrade's studio pack is about to take the slot.
        if session.upgrade_pending or await self._s.queue.active_job(scope) is not None:
            return SheetOutcome([Reply(t(say.SHEET_BUSY))])
        refusal = await reroll_refusal(self._s.state, scope, self._limits)
        if refusal is not None:
            return SheetOutcome([Reply(refusal)])
        first = await self._reserve_numbers(scope, job, order.count)
        request = replace(
            job.record.request,
            platform=chat.platform, chat_id=chat.chat_id, user_id=chat.user_id,
            style_ids=(order.style_id,), pack_size=order.count,
            seed=random.getrandbits(31), request_id=uuid.uuid4().hex[:16],
            reroll=replace(order.reroll, first_number=first),
            language=session.language,  # they may have switched since the pack
        )  # fmt: skip
        try:
            job_id = await self._s.queue.enqueue_request(request)
        except PackAlreadyActiveError:  # another replica queued something for them just now
            return SheetOutcome([Reply(t(say.SHEET_BUSY))])
        await count_reroll(self._s.state, scope)
        running = session.with_(stage=Stage.RUNNING, job_id=job_id)  # /status, /cancel reach it
        return SheetOutcome([Reply(order.started)], running)

    async def _reserve_numbers(self, scope: str, job: Delivered, count: int) -> int:
        """Return the first sheet number of a re-roll of `count` images, reserving them all.

        A pack's re-rolls, whichever sheet they came from, number on from its last image; a
        re-roll that was refused or delivered fewer images leaves a gap, never a repeat.
        """
        pack = job.identity_job_id

        def reserve(doc: JsonDict | None) -> JsonDict:
            numbers = dict((doc or {}).get("next", {}))
            numbers[pack] = max(int(numbers.get(pack, 1)), job.after) + count
            return {"next": numbers}

        ttl_s = self._options.kept_ttl_s
        doc = await self._s.state.update(numbering_key(scope), reserve, ttl_s=ttl_s) or {}
        return int(doc["next"][pack]) - count

    # ----- Done: the ZIP ------------------------------------------------------------------------

    async def zip_files(self, scope: str, job_id: str) -> list[tuple[str, bytes]] | None:
        """Return what Done zips for the person's job (the gallery's download), None if gone."""
        job = await self._delivered(scope, job_id)
        return None if job is None else (await self._zip_files(scope, job))[0]

    async def _zip(self, chat: ChatRef, scope: str, job: Delivered) -> list[Effect]:
        files, chosen, text = await self._zip_files(scope, job)
        limit = self._options.upload_bytes.get(chat.platform, DEFAULT_UPLOAD_BYTES)
        parts = zip_parts(files, limit)
        effects: list[Effect] = [Reply(t(text, count=chosen))]
        if len(parts) > 1:
            effects.append(Reply(t(say.SHEET_ZIP_PARTS, parts=len(parts))))
        return effects + [SendFiles((part,)) for part in parts]

    async def _zip_files(
        self, scope: str, job: Delivered
    ) -> tuple[list[tuple[str, bytes]], int, str]:
        """Return the files (the kept images, else the job's, then the profile kit), their
        count and what to say about them."""
        chosen = await self._kept_images(scope)
        text = say.SHEET_ZIP_READY_KEPT
        if not chosen:
            chosen = [(a.style_id, n, key) for a in job.albums for n, key in a.images()]
            text = say.SHEET_ZIP_READY_ALL
        titled = [(say.style_title(style, self._titles), n, key) for style, n, key in chosen]
        files = [(names.headshot(n, title), await self._s.blobs.get(key))
                 for title, n, key in titled]  # fmt: skip
        kit = await self._s.images.profile_kit(files[0][1], self._options.brand_colour)
        files += [(names.kit_piece(name, _extension(data)), data) for name, data in kit.items()]
        return files, len(chosen), text

    async def _kept_images(self, scope: str) -> list[tuple[str, int, str]]:
        """Return (style id, number, blob key) of the kept images still there, in the order kept."""
        doc = await self._s.state.get(kept_key(scope)) or {}
        images: list[tuple[str, int, str]] = []
        for entry in doc.get("kept", []):
            job_id, _, raw = str(entry).partition(":")
            job = await self._delivered(scope, job_id)
            found = job.image(int(raw)) if job is not None and raw.isdigit() else None
            if found is not None and await self._s.blobs.exists(found[1]):
                images.append((found[0].style_id, int(raw), found[1]))
        return images


@dataclass(frozen=True)
class _RerollOrder:
    """What a re-roll renders, and what the person is told when it is queued."""

    style_id: str
    count: int
    reroll: Reroll
    started: str


def _numbers_of(job_id: str, entries: list[str]) -> set[int]:
    prefix = f"{job_id}:"
    return {int(e[len(prefix) :]) for e in entries if e.startswith(prefix)}


def _extension(data: bytes) -> str:
    return "png" if data.startswith(b"\x89PNG") else "jpg"
