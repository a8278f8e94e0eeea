"""Where effects go: each adapter (Telegram, Discord, console) implements this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.chat.events import ChatRef, Effect


class MaybeSentError(Exception):
    """The platform may have carried out the effect: the call timed out or its answer was
    unreadable. Sending it again risks a duplicate, so the notifier tries such a part at most
    twice."""


class EffectSink(Protocol):
    """Carries out effects in one chat, in order."""

    async def apply(self, chat: ChatRef, effects: Sequence[Effect]) -> None:
        """Send, edit or upload what `effects` say; handle the platform's limits and retries."""
