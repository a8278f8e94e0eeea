"""The chat service: runs the core for one event, with the I/O the core asks for.

For each event it loads the person's session, runs photos through the gate and stores accepted
ones, calls the pure core, saves the new session, carries out the core's actions (enqueue, cancel,
delete), and hands the effects to the adapter's sink. Events of one person are handled one at a
time, so an album's photos see each other as already accepted.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from redis.asyncio import Redis

from bot.chat.contact_sheet import SheetPress, first_number, sheet_albums
from bot.chat.conversation import (
    Action,
    CancelPack,
    CheckedPhoto,
    CheckedPhotos,
    CoreEvent,
    DropSelfies,
    EraseEverything,
    FetchFiles,
    ShowStatus,
    StartPack,
    Step,
    accepts_photos,
    decide,
)
from bot.chat.events import (
    ChatRef,
    Effect,
    Event,
    Photo,
    Press,
    Reply,
    SendFiles,
    SendPhoto,
    Unsupported,
)
from bot.chat.grouping import Grouping
from bot.chat.menus import CoreConfig
from bot.chat.session import Selfie, Session, Stage, TierChoice
from bot.chat.sink import EffectSink
from bot.images.pool import ImagePool
from bot.service.albums import AlbumCollector, AlbumStore
from bot.service.erase import erase_person
from bot.service.limits import Limits, count_pack, pack_refusal
from bot.service.pack_queue import PackQueue
from bot.service.sheet_desk import SheetDesk, SheetOptions, SheetStores
from bot.text import files as names
from bot.text import messages as say
from bot.text.i18n import SLASH, catalog_for, pick_language, speaking, t
from bot.text.progress import about_text, failure_reply, progress_text
from engine.jobs import (
    Cancelled,
    Done,
    Failed,
    PackAlreadyActiveError,
    TerminalEvent,
    Tier,
    eta,
    keys,
    load_record,
)
from engine.jobs.stream import latest_event
from engine.jobs.workers import WorkerState
from engine.quality.report import Verdict
from storage.blobs import BlobStore
from storage.keys import user_scope
from storage.state import StateStore

log = logging.getLogger(__name__)

ESTIMATED_STAGES = frozenset({Stage.PACK_SIZE, Stage.TIER, Stage.CONFIRM})  # they show pack times


@dataclass(frozen=True)
class RetouchLook:
    """How the instant retouch looks (from settings)."""

    background: str = "grey"
    aspect: str = "1:1"
    brand_colour: str = "#0A66C2"


@dataclass(frozen=True)
class VoiceOptions:
    """How texts are written on this front: a language forced by the operator, command names."""

    language: str = ""  # empty: each person's own, from their platform, English as the fallback
    prefix: str = SLASH  # Discord's commands are subcommands: "/headshots "


@dataclass(frozen=True)
class ServiceOptions:
    """How this deployment behaves, from settings."""

    album_wait_s: float = 0.8
    # Refreshed on every event; when it runs out the conversation counts as abandoned and the
    # retention sweeper deletes its selfies.
    session_ttl_s: int = 48 * 3600
    look: RetouchLook = field(default_factory=RetouchLook)
    limits: Limits = field(default_factory=Limits)
    voice: VoiceOptions = field(default_factory=VoiceOptions)
    sheet: SheetOptions = field(default_factory=SheetOptions)


@dataclass(frozen=True)
class Services:
    """The long-lived resources the chat service uses, created once at start."""

    state: StateStore
    blobs: BlobStore
    images: ImagePool
    redis: Redis
    queue: PackQueue
    sink: EffectSink


class ChatService:
    """Turns neutral events into effects for one deployment."""

    def __init__(
        self, services: Services, config: CoreConfig, options: ServiceOptions | None = None
    ) -> None:
        self._svc = services
        self._config = config
        options = options or ServiceOptions()
        self._look = options.look
        self._voice = options.voice
        self._session_ttl_s = options.session_ttl_s
        self._limits = options.limits
        albums = AlbumStore(services.redis, options.album_wait_s)
        self._albums = AlbumCollector(albums, self._handle_album)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._background: set[asyncio.Task[None]] = set()
        svc = services
        stores = SheetStores(svc.state, svc.blobs, svc.images, svc.redis, svc.queue)
        self._titles = {style.id: style.title for style in config.styles}
        self._sheet = SheetDesk(stores, self._limits, self._titles, options.sheet)

    @property
    def command_prefix(self) -> str:
        """Return how this front's commands are typed before their name ("/", "/headshots ")."""
        return self._voice.prefix

    async def handle(self, chat: ChatRef, event: Event, language: str = "") -> None:
        """Answer one event; never raises, the person always gets an answer.

        `language` is the platform's code for the person's language ("es", "pt-BR"), when the
        platform tells it with this event; otherwise the session remembers the last one.
        """
        self._albums.start()  # any replica taking updates claims albums a dead one left
        with speaking(pick_language(language, self._voice.language), self._voice.prefix):
            if not self._limits.allows(chat.platform, chat.user_id):
                await self._svc.sink.apply(chat, (Reply(t(say.PRIVATE_BOT)),))
            elif isinstance(event, Photo) and event.group_id:
                await self._guarded(chat, self._albums.add(chat, event, language))
            elif isinstance(event, Photo):
                await self._handle_photos(chat, [event])
            else:
                await self._guarded(chat, self._run(chat, event, language))

    async def press(self, chat: ChatRef, data: str, language: str = "") -> list[Effect]:
        """Answer a button press made outside the chat (the gallery) as the chat's own would be.

        The effects go to the chat as usual (a keep edits the album's controls there) and are
        returned, so the gallery can show what was said.
        """
        with speaking(pick_language(language, self._voice.language), self._voice.prefix):
            if not self._limits.allows(chat.platform, chat.user_id):
                effects: list[Effect] = [Reply(t(say.PRIVATE_BOT))]
            else:
                effects = await self._step(chat, Press(data), language)
        await self._svc.sink.apply(chat, effects)
        return effects

    async def zip_files(self, chat: ChatRef, job_id: str) -> list[tuple[str, bytes]] | None:
        """Return the files the contact sheet's Done would zip for the person's job."""
        return await self._sheet.zip_files(user_scope(chat.platform, chat.user_id), job_id)

    async def photo_refusal(self, chat: ChatRef) -> Unsupported | None:
        """Return why a photo from this person would not be used now, before it is downloaded.

        Adapters ask first, so nothing of a person who has not consented is even fetched.
        """
        scope = user_scope(chat.platform, chat.user_id)
        async with self._locks[scope]:  # after the person's events that came first (a consent)
            session = await self._load(scope)
        if session is not None and accepts_photos(session, self._config):
            return None
        return Unsupported(_photo_refusal(session))

    async def drain(self) -> None:
        """Finish albums being collected and retouches being made (on shutdown, and in tests)."""
        await self._albums.drain()
        while self._background:
            await asyncio.gather(*self._background)

    async def _handle_photos(self, chat: ChatRef, photos: Sequence[Photo]) -> None:
        await self._guarded(chat, self._run(chat, photos))

    async def _handle_album(self, chat: ChatRef, photos: Sequence[Photo], language: str) -> None:
        # Maybe on another replica than the one the album's updates came to: the language rode
        # along with the photos.
        with speaking(pick_language(language, self._voice.language), self._voice.prefix):
            await self._handle_photos(chat, photos)

    async def _guarded(self, chat: ChatRef, work: Awaitable[None]) -> None:
        try:
            await work
        except Exception:
            scope = user_scope(chat.platform, chat.user_id)
            log.exception("event from %s failed", scope)  # the hashed scope, never the raw id
            await self._svc.sink.apply(chat, (Reply(t(say.UNEXPECTED_ERROR)),))

    async def _run(
        self, chat: ChatRef, event: CoreEvent | Sequence[Photo], language: str = ""
    ) -> None:
        await self._svc.sink.apply(chat, await self._step(chat, event, language))

    async def _step(
        self, chat: ChatRef, event: CoreEvent | Sequence[Photo], language: str = ""
    ) -> list[Effect]:
        scope = user_scope(chat.platform, chat.user_id)
        async with self._locks[scope]:
            session = await self._load(scope)
            spoken = self._language_of(session, language)
            with speaking(spoken, self._voice.prefix):
                if isinstance(event, Sequence):  # photos: checked against the set as it is now
                    event = await self._photo_event(scope, session, event)
                step = decide(session, event, await self._config_for(session))
                if step.session is not None:  # a /language pick is spoken from this answer on
                    now = step.session.chosen_language or spoken
                    step = replace(step, session=step.session.with_(language=now))
                return await self._commit(chat, scope, step)

    def _language_of(self, session: Session | None, code: str) -> str:
        """Return the language to answer in.

        The person's /language pick wins; then the operator's setting, the platform's code with
        this event, and the language they were last answered in.
        """
        chosen = session.chosen_language if session is not None else ""
        if chosen and catalog_for(chosen) is not None:
            return chosen
        remembered = session.language if session is not None else ""
        return pick_language(code or remembered, self._voice.language)

    async def _config_for(self, session: Session | None) -> CoreConfig:
        """Return the core's config with the workers' measured pack times where they are shown."""
        if session is None or session.stage not in ESTIMATED_STAGES:
            return self._config
        redis = self._svc.redis
        measured = {tier: await eta.pack_eta_s(redis, tier) for tier in self._config.tiers}
        return replace(self._config, pack_eta_s=measured)

    async def _photo_event(
        self, scope: str, session: Session | None, photos: Sequence[Photo]
    ) -> CoreEvent:
        if session is None or not accepts_photos(session, self._config):
            return Unsupported(_photo_refusal(session))
        return await self._check(scope, session, photos)

    async def _check(self, scope: str, session: Session, photos: Sequence[Photo]) -> CheckedPhotos:
        group = Grouping(list(session.selfies), list(session.set_aside))
        checked = []
        for number, photo in enumerate(photos, start=session.received + 1):
            label = say.photo_label(number)
            if len(group.selfies) >= self._config.policy.max_selfies:
                checked.append(CheckedPhoto(label, Verdict.REJECTED, t(say.NOT_KEPT_FULL), None))
                continue
            counted = [selfie.label for selfie in group.selfies]
            result = await self._svc.images.check(photo.data, label, group.all(), counted)
            selfie = None
            if result.face is not None:  # a good photo, of the person or (kept aside) not
                key = keys.selfie_key(scope, uuid.uuid4().hex)
                await self._svc.blobs.put(key, photo.data)
                selfie = Selfie(label, key, photo.file_id, result.verdict, result.face)
                group.add(selfie, result.person, self._config.policy.max_selfies)
            kept = selfie if selfie in group.selfies else None
            checked.append(CheckedPhoto(label, result.verdict, result.summary, kept))
        hints = await self._hints(group.selfies, checked)
        grouping = (tuple(group.selfies), tuple(group.set_aside))
        return CheckedPhotos(tuple(checked), hints, grouping, tuple(group.notes))

    async def _hints(self, selfies: list[Selfie], checked: list[CheckedPhoto]) -> tuple[str, ...]:
        policy = self._config.policy
        if len(selfies) < policy.min_selfies or not any(c.selfie for c in checked):
            return ()
        hints = await self._svc.images.hints(selfies, policy.min_selfies, policy.max_selfies)
        return tuple(hints)

    async def _load(self, scope: str) -> Session | None:
        raw = await self._svc.state.get(keys.session_key(scope))
        session = None if raw is None else Session.from_dict(raw)
        running = session is not None and session.stage is Stage.RUNNING
        # The worker may have finished (delivered, failed or cancelled) since the last event.
        if session is not None and running and await self._svc.queue.active_job(scope) is None:
            session = session.with_(stage=Stage.DONE)
        return session

    async def _save(self, scope: str, session: Session) -> None:
        stamped = session.with_(updated_at=time.time())
        await self._svc.state.put(
            keys.session_key(scope), stamped.to_dict(), ttl_s=self._session_ttl_s
        )

    async def _commit(self, chat: ChatRef, scope: str, step: Step) -> list[Effect]:
        key = keys.session_key(scope)
        if step.session is None:
            await self._svc.state.delete(key)
        else:
            await self._save(scope, step.session)
        effects = list(step.effects)
        for action in step.actions:
            effects += await self._act(chat, scope, step.session, action)
        return effects

    async def _act(
        self, chat: ChatRef, scope: str, session: Session | None, action: Action
    ) -> list[Effect]:
        if isinstance(action, EraseEverything):
            return [Reply(await self._delete_everything(scope))]
        if isinstance(action, DropSelfies):
            await self._svc.blobs.delete_prefix(keys.selfies_prefix(scope))
            return []
        if session is None:
            return []
        match action:
            case StartPack():
                return await self._start(chat, scope, session)
            case CancelPack() if session.job_id:
                stopped = await self._svc.queue.cancel(session.job_id)
                return [Reply(t(say.STOPPING if stopped else say.NOTHING_RUNNING))]
            case FetchFiles(job_id=job_id):
                return await self._full_resolution(scope, job_id)
            case ShowStatus():
                return [Reply(await self._live_status(session.job_id))]
            case SheetPress():
                outcome = await self._sheet.press(chat, scope, session, action)
                if outcome.session is not None:
                    await self._save(scope, outcome.session)
                return outcome.effects
        return []

    async def _start(self, chat: ChatRef, scope: str, session: Session) -> list[Effect]:
        running = await self._svc.queue.active_job(scope)
        if running is not None and running != session.job_id:
            await self._save(scope, session.with_(job_id=running))  # /status, /cancel reach it
            return [Reply(t(say.JOB_ALREADY_RUNNING))]
        if await self._svc.queue.worker_state() is WorkerState.UNAVAILABLE:
            # No worker here can start (the host sees why): queueing would only make them wait.
            await self._save(scope, session.with_(stage=Stage.CONFIRM, upgrade_pending=False))
            self._in_background(self._send_retouch(chat, session, pack_coming=False))
            return [Reply(t(say.PACKS_UNAVAILABLE))]
        first = Tier.STUDIO if session.tier is TierChoice.STUDIO else Tier.EXPRESS
        refusal = await pack_refusal(self._svc.state, self._svc.redis, scope, self._limits, first)
        if refusal is not None:
            # Start works later; the upgrade is armed again when it is pressed.
            await self._save(scope, session.with_(stage=Stage.CONFIRM, upgrade_pending=False))
            return [Reply(refusal)]
        try:
            job_id = await self._svc.queue.enqueue(chat, scope, session, first)
        except PackAlreadyActiveError as exc:  # another replica raced us to it
            await self._save(scope, session.with_(job_id=exc.job_id))
            return [Reply(t(say.JOB_ALREADY_RUNNING))]
        except Exception:
            await self._save(scope, session.with_(stage=Stage.CONFIRM, upgrade_pending=False))
            raise  # nothing was queued
        await count_pack(self._svc.state, scope)
        await self._save(scope, session.with_(job_id=job_id))
        # The notifier posts the progress message from the job's own "queued" event, and says
        # there when no worker is live.
        self._in_background(self._send_retouch(chat, session))
        return await self._tier_note(first)

    async def _tier_note(self, tier: Tier) -> list[Effect]:
        """Say now that the order's tier has no live worker while the other tier has one."""
        queue = self._svc.queue
        if await queue.worker_state(tier) is WorkerState.LIVE:
            return []
        other = Tier.STUDIO if tier is Tier.EXPRESS else Tier.EXPRESS
        if await queue.worker_state(other) is not WorkerState.LIVE:
            return []  # none at all: the notifier's note on the progress message says so
        return [Reply(t(say.NO_TIER_WORKER[tier]))]

    async def pack_finished(self, chat: ChatRef, event: TerminalEvent) -> None:
        """Queue the studio pack of an upgrade once its express pack was delivered.

        The notifier calls this after every delivered ending, possibly more than once for one
        job (a retried delivery); the follow-up's job id comes from the order, so it is queued
        once. Under the person's lock, so a /delete or /cancel either comes first and clears the
        upgrade or sees the studio pack queued and stops it.
        """
        if not isinstance(event, Done):
            return
        scope = user_scope(chat.platform, chat.user_id)
        async with self._locks[scope]:
            raw = await self._svc.state.get(keys.session_key(scope))
            session = None if raw is None else Session.from_dict(raw)
            if session is None or not session.upgrade_pending or session.job_id != event.job_id:
                return
            job_id = await self._svc.queue.enqueue(chat, scope, session, Tier.STUDIO)
            upgraded = session.with_(stage=Stage.RUNNING, job_id=job_id, upgrade_pending=False)
            await self._save(scope, upgraded)
        studio = about_text(await eta.pack_eta_s(self._svc.redis, Tier.STUDIO))
        await self._svc.sink.apply(chat, (Reply(say.upgrade_started(studio)),))

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _full_resolution(self, scope: str, job_id: str) -> list[Effect]:
        record = await load_record(self._svc.state, job_id)
        if record is None or record.request.user_scope != scope:
            return [Reply(t(say.FILES_GONE))]  # another person's job reads as an erased one
        done = await latest_event(self._svc.redis, job_id)
        if not isinstance(done, Done):
            return [Reply(t(say.FILES_GONE))]
        effects: list[Effect] = []
        for album in sheet_albums(done, first_number(record.request)):  # as the sheets number them
            title = say.style_title(album.style_id, self._titles)
            files = [(names.headshot(n, title), await self._svc.blobs.get(key))
                     for n, key in album.images()]  # fmt: skip
            effects.append(SendFiles(tuple(files)))
        return effects

    async def _live_status(self, job_id: str) -> str:
        """Say where the pack is, or how it ended: the job's own last event, not the session."""
        latest = await latest_event(self._svc.redis, job_id)
        match latest:
            case None:
                return t(say.JOB_ALREADY_RUNNING)
            case Done():
                return t(say.LAST_PACK_FINISHED)
            case Cancelled():
                return t(say.LAST_PACK_CANCELLED)
            case Failed(code=code):
                return f"{failure_reply(code)}\n\n{t(say.START_AGAIN)}"
        return f"{progress_text(latest)}\n\n{t(say.JOB_ALREADY_RUNNING)}"

    async def _send_retouch(
        self, chat: ChatRef, session: Session, *, pack_coming: bool = True
    ) -> None:
        """Send the instant retouch of the best selfie while the pack trains."""
        best = max(session.selfies, key=lambda selfie: selfie.quality)
        look = self._look
        try:
            data = await self._svc.blobs.get(best.blob_key)
            image = await self._svc.images.retouch(
                data, look.background, look.aspect, look.brand_colour
            )
        except Exception:
            log.exception("instant retouch failed for %s", user_scope(chat.platform, chat.user_id))
            await self._svc.sink.apply(chat, (Reply(t(say.RETOUCH_FAILED)),))
            return
        template = say.RETOUCH_CAPTION if pack_coming else say.RETOUCH_ONLY_CAPTION
        caption = t(template, label=best.label)
        await self._svc.sink.apply(chat, (SendPhoto(image, caption, names.retouch()),))

    async def _delete_everything(self, scope: str) -> str:
        svc = self._svc
        erased = await erase_person(scope, svc.state, svc.redis, svc.blobs, svc.queue)
        log.info(
            "erased a person: %d blobs, %d records, %d jobs",
            erased.blobs,
            erased.records,
            erased.jobs,
        )
        return erased.describe()


def _photo_refusal(session: Session | None) -> str:
    if session is None:
        return "photo_before_consent"
    if session.stage is Stage.CAPTURE:
        return "photo_set_full"
    return "photo_not_now"
