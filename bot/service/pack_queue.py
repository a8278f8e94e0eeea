"""The bot's view of the pack queue: enqueue once, cancel, and ask what is running."""

from __future__ import annotations

from typing import Protocol

from arq.connections import ArqRedis

from bot.chat.events import ChatRef
from bot.chat.session import Selfie, Session, TierChoice
from engine.jobs import PackRequest, Tier, active_job, cancel_pack, enqueue_pack
from engine.jobs.contract import SelfieTraits
from engine.jobs.workers import WorkerState, worker_state
from storage.state import StateStore


class PackQueue(Protocol):
    """What the chat service needs from the job queue."""

    async def enqueue(self, chat: ChatRef, scope: str, session: Session, tier: Tier) -> str:
        """Enqueue the session's pack of `tier`; return the job id (one per request and tier)."""

    async def enqueue_request(self, request: PackRequest) -> str:
        """Enqueue a request the bot built itself (a re-roll); return its job id."""

    async def cancel(self, job_id: str, *, announce: bool = True) -> bool:
        """Abort a queued or running job; return whether one was stopped.

        `announce=False` (erasure) sends the person no "cancelled" notice for a queued job.
        """

    async def active_job(self, scope: str) -> str | None:
        """Return the job id of the person's queued or running pack, if any."""

    async def worker_state(self, tier: Tier | None = None) -> WorkerState:
        """Return whether a worker of `tier` (None: of any) is live, absent, or cannot start."""


class ArqPackQueue:
    """The pack queue on arq and Redis (engine.jobs)."""

    def __init__(self, arq: ArqRedis, state: StateStore) -> None:
        self._arq = arq
        self._state = state

    async def enqueue(self, chat: ChatRef, scope: str, session: Session, tier: Tier) -> str:
        """Enqueue the session's order; engine.jobs derives the job id from its request id."""
        # The two packs of an upgrade are two orders: the studio one gets its own request id.
        follow_up = session.tier is TierChoice.UPGRADE and tier is Tier.STUDIO
        request_id = f"{session.request_id}-studio" if follow_up else session.request_id
        request = PackRequest(
            platform=chat.platform,
            chat_id=chat.chat_id,
            user_id=chat.user_id,
            user_scope=scope,
            selfie_keys=tuple(selfie.blob_key for selfie in session.selfies),
            subject=session.subject,
            style_ids=session.styles,
            pack_size=session.pack_size,
            seed=int(session.request_id[:8], 16),  # reproducible from the order
            request_id=request_id,
            tier=tier,
            selfie_traits=tuple(_traits(selfie) for selfie in session.selfies),
            language=session.language,
        )
        enqueued = await enqueue_pack(self._arq, self._state, request)
        return enqueued.job_id

    async def enqueue_request(self, request: PackRequest) -> str:
        """Enqueue once per request id; raise PackAlreadyActiveError while another job runs."""
        enqueued = await enqueue_pack(self._arq, self._state, request)
        return enqueued.job_id

    async def cancel(self, job_id: str, *, announce: bool = True) -> bool:
        """Abort the job through arq."""
        return await cancel_pack(self._arq, self._state, job_id, announce=announce)

    async def active_job(self, scope: str) -> str | None:
        """Return the person's queued or running job."""
        return await active_job(self._state, scope)

    async def worker_state(self, tier: Tier | None = None) -> WorkerState:
        """Return the workers' state from their heartbeats and a failed start's reason."""
        return await worker_state(self._arq, tier)


def _traits(selfie: Selfie) -> SelfieTraits:
    """Return what the gate measured on the selfie, in the contract's terms."""
    face = selfie.face
    pose = [*face.pose, 0.0, 0.0]
    light = [*face.light, 0.5]
    return SelfieTraits(selfie.quality, yaw_deg=pose[0], pitch_deg=pose[1], brightness=light[0])
