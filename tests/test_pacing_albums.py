"""Per-chat pacing and album collection, the two timing pieces of the chat front ends."""

from __future__ import annotations

import asyncio

from bot.fronts.telegram.pacing import ChatPacer


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pacer_lets_a_burst_through_then_spaces_messages() -> None:
    clock = _Clock()
    pacer = ChatPacer(interval_s=1.0, burst=3, clock=clock)
    assert [pacer._take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer._take("a") == 1.0
    assert pacer._take("a") == 2.0
    assert pacer._take("b") == 0.0  # chats are paced independently
    clock.now += 10
    assert pacer._take("a") == 0.0  # refilled, but never above the burst size
    assert pacer._take("a") == 0.0
    assert pacer._take("a") == 0.0
    assert pacer._take("a") == 1.0


async def test_pacer_waits_for_real() -> None:
    pacer = ChatPacer(interval_s=0.05, burst=1)
    loop = asyncio.get_running_loop()
    await pacer.wait("a")
    start = loop.time()
    await pacer.wait("a")  # the burst is spent: returns only after the refill
    assert loop.time() - start >= 0.04
