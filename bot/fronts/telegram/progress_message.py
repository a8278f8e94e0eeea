"""The progress message of one job in one Telegram chat, as a small state machine.

A job has one progress message that is edited as the pack moves on. What the sink knows of it is
kept in the state store (so a restarted bot or another replica edits the same message):

    NEW       nothing posted yet                       -> post it
    SHOWN     posted, its message id known             -> edit it (post anew if Telegram lost it)
    SAME      the message already shows this text      -> nothing (Telegram refuses a no-op edit)
    LOST      posted, but the answer with its id lost  -> post it anew
    GIVEN_UP  lost LOST_POSTS times                    -> nothing: the pack's ending still comes

LOST exists because a post whose answer never arrived may well be on screen: posting again on
every step would fill the chat with copies, so the sink tries a bounded number of times.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.chat.events import Progress

LOST_POSTS = 2  # posts of a progress message whose answer was lost, at most
Signature = list[Any]  # JSON-shaped, as the state store keeps it


class Shown(Enum):
    """Where a job's progress message stands, for the next progress to show."""

    NEW = "new"
    SHOWN = "shown"
    SAME = "same"
    LOST = "lost"
    GIVEN_UP = "given-up"


@dataclass(frozen=True)
class ProgressMessage:
    """What is known of a progress message: its id (0 when unknown) and what it shows."""

    message_id: int
    signature: Signature
    lost: int = 0

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> ProgressMessage | None:
        """Read the state store's document; None when nothing was posted."""
        if doc is None:
            return None
        return cls(int(doc["message_id"]), list(doc["signature"]), int(doc.get("lost", 0)))

    def to_doc(self) -> dict[str, Any]:
        """Return the document the state store keeps."""
        doc: dict[str, Any] = {"message_id": self.message_id, "signature": self.signature}
        if self.lost:
            doc["lost"] = self.lost
        return doc


def signature_of(progress: Progress) -> Signature:
    """Return what the message shows: its text and its buttons."""
    buttons = [[[b.label, b.data] for b in row] for row in progress.buttons]
    return [progress.text, buttons]


def state_of(known: ProgressMessage | None, signature: Signature) -> Shown:
    """Return the state of the message for showing `signature` next."""
    if known is None:
        return Shown.NEW
    if known.signature == signature:
        return Shown.SAME
    if not known.message_id:
        return Shown.GIVEN_UP if known.lost >= LOST_POSTS else Shown.LOST
    return Shown.SHOWN


def posted(message_id: int, signature: Signature) -> ProgressMessage:
    """Return the message after a post or an edit whose answer arrived."""
    return ProgressMessage(message_id, signature)


def lost_post(known: ProgressMessage | None, signature: Signature) -> ProgressMessage:
    """Return the message after a post whose answer was lost: one more lost post counted."""
    lost = known.lost if known is not None and not known.message_id else 0
    return ProgressMessage(0, signature, lost + 1)
