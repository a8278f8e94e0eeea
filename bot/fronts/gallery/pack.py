"""A pack as the gallery shows it, read from the contact sheet's own state in Redis.

A pack is its first job and every re-roll made from it (their `identity_job_id` names the pack);
its images are numbered per job exactly as the chat's contact sheet numbers them, and the keep
set is the sheet's (`kept_key`), so the chat and the gallery always agree. Every read checks that
the job is the person's own and of this pack: another person's reads as FOREIGN, an erased one
as GONE.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from redis.asyncio import Redis

from bot.chat.contact_sheet import first_number, image_at, sheet_albums
from bot.chat.events import ChatRef
from bot.text.messages import style_title
from engine.jobs import Done, JobRecord, load_record
from engine.jobs.keys import kept_key, person_jobs_key
from engine.jobs.queue import active_job
from engine.jobs.stream import latest_event
from storage.state import StateStore


class Access(StrEnum):
    """Whether a person may see a job: theirs and of the pack, another's, or erased."""

    OPEN = "open"
    FOREIGN = "foreign"
    GONE = "gone"


@dataclass(frozen=True)
class Tile:
    """One image: the job and the number the contact sheet gives it."""

    job_id: str
    number: int
    kept: bool


@dataclass(frozen=True)
class StyleGrid:
    """The images of one style, oldest job first, and the press that re-rolls the style."""

    style_id: str
    title: str
    reroll: str
    tiles: tuple[Tile, ...]


@dataclass(frozen=True)
class PackPage:
    """What the gallery page shows: the styles' grids and whether new images are coming."""

    pack_id: str
    styles: tuple[StyleGrid, ...]
    busy: bool


@dataclass(frozen=True)
class _Job:
    record: JobRecord
    done: Done


class PackReader:
    """Reads packs for the gallery; every answer is scoped to one person."""

    def __init__(self, state: StateStore, redis: Redis, titles: Mapping[str, str]) -> None:
        self._state = state
        self._redis = redis
        self._titles = dict(titles)

    async def access(self, scope: str, pack_id: str, job_id: str = "") -> Access:
        """Return whether `scope` may see `job_id` (default: the pack itself) of `pack_id`."""
        record = await load_record(self._state, job_id or pack_id)
        if record is None:
            return Access.GONE
        if record.request.user_scope != scope or _pack_of(record) != pack_id:
            return Access.FOREIGN
        return Access.OPEN

    async def chat_of(self, pack_id: str) -> ChatRef | None:
        """Return the chat the pack was ordered from: the gallery's presses answer there."""
        record = await load_record(self._state, pack_id)
        if record is None:
            return None
        request = record.request
        return ChatRef(request.platform, request.chat_id, request.user_id)

    async def image_key(self, scope: str, pack_id: str, job_id: str, number: int) -> str | None:
        """Return the blob key of image `number` of a job of the pack, None if it is not there."""
        if await self.access(scope, pack_id, job_id) is not Access.OPEN:
            return None
        record = await load_record(self._state, job_id)
        done = await latest_event(self._redis, job_id)
        if record is None or not isinstance(done, Done):
            return None
        found = image_at(done, number, first_number(record.request))
        return None if found is None else found[1]

    async def page(self, scope: str, pack_id: str) -> PackPage:
        """Return the pack's grids, per style in the order the pack delivered them.

        Style titles are in the current language (the caller speaks the person's).
        """
        jobs = await self._family(scope, pack_id)
        kept = set((await self._state.get(kept_key(scope)) or {}).get("kept", []))
        grids: dict[str, list[Tile]] = {}
        rerolls: dict[str, str] = {}
        for job in jobs:
            for album in sheet_albums(job.done, first_number(job.record.request)):
                tiles = grids.setdefault(album.style_id, [])
                entry = job.record.job_id
                tiles += [Tile(entry, n, f"{entry}:{n}" in kept) for n in album.numbers]
                rerolls.setdefault(album.style_id, f"again:{entry}:{album.index}")
        styles = tuple(
            StyleGrid(style, style_title(style, self._titles), rerolls[style], tuple(tiles))
            for style, tiles in grids.items()
        )
        return PackPage(pack_id, styles, await active_job(self._state, scope) is not None)

    async def _family(self, scope: str, pack_id: str) -> list[_Job]:
        """Return the pack's delivered jobs, oldest first."""
        jobs: list[_Job] = []
        for job_id in await self._state.index_members(person_jobs_key(scope)):
            record = await load_record(self._state, job_id)
            if record is None or record.request.user_scope != scope or _pack_of(record) != pack_id:
                continue
            done = await latest_event(self._redis, job_id)
            if isinstance(done, Done):
                jobs.append(_Job(record, done))
        return sorted(jobs, key=lambda job: (job.record.job_id != pack_id, job.record.at))


def _pack_of(record: JobRecord) -> str:
    reroll = record.request.reroll
    return reroll.identity_job_id if reroll is not None else record.job_id
