"""The bot's view of the pack queue: enqueue once, cancel, and ask what is running."""

from __future__ import annotations

from typing import Protocol

from arq.connections import ArqRedis

from bot.events import ChatRef
from bot.session import Session
from engine.jobs import PackRequest, active_job, cancel_pack, enqueue_pack
from engine.jobs.workers import WorkerState, worker_state
from storage.state import StateStore


class PackQueue(Protocol):
    """What the chat service needs from the job queue."""

    async def enqueue(self, chat: ChatRef, scope: str, session: Session) -> str:
        """Enqueue the pack the session describes; return the job id (one per request_id)."""

    async def cancel(self, job_id: str) -> bool:
        """Abort a queued or running job; return whether one was stopped."""

    async def active_job(self, scope: str) -> str | None:
        """Return the job id of the person's queued or running pack, if any."""

    async def worker_state(self) -> WorkerState:
        """Return whether a worker is live, absent, or unable to start on this host."""


class ArqPackQueue:
    """The pack queue on arq and Redis (engine.jobs)."""

    def __init__(self, arq: ArqRedis, state: StateStore) -> None:
        self._arq = arq
        self._state = state

    async def enqueue(self, chat: ChatRef, scope: str, session: Session) -> str:
        """Enqueue the session's order; engine.jobs derives the job id from its request id."""
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
            request_id=session.request_id,
        )
        enqueued = await enqueue_pack(self._arq, self._state, request)
        return enqueued.job_id

    async def cancel(self, job_id: str) -> bool:
        """Abort the job through arq."""
        return await cancel_pack(self._arq, self._state, job_id)

    async def active_job(self, scope: str) -> str | None:
        """Return the person's queued or running job."""
        return await active_job(self._state, scope)

    async def worker_state(self) -> WorkerState:
        """Return the workers' state from arq's health-check key and a failed start's reason."""
        return await worker_state(self._arq)
