"""The bot's view of the pack queue: enqueue once, cancel, and ask what is running."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.events import ChatRef
from bot.session import Session


@dataclass(frozen=True)
class Enqueued:
    """A pack job on the queue."""

    job_id: str
    position: int


class PackQueue(Protocol):
    """What the chat service needs from the job queue."""

    async def enqueue(self, chat: ChatRef, scope: str, session: Session) -> Enqueued:
        """Enqueue the pack the session describes; the same request_id gives the same job."""

    async def cancel(self, job_id: str) -> bool:
        """Abort a queued or running job; return whether one was stopped."""

    async def active_job(self, scope: str) -> str | None:
        """Return the job id of the person's queued or running pack, if any."""
