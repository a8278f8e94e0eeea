"""Where effects go: each adapter (Telegram, Discord, console) implements this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.events import ChatRef, Effect


class EffectSink(Protocol):
    """Carries out effects in one chat, in order."""

    async def apply(self, chat: ChatRef, effects: Sequence[Effect]) -> None:
        """Send, edit or upload what `effects` say; handle the platform's limits and retries."""
