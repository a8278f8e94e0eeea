"""The bot's image pool: real gate children, and recovery when one of them dies."""

from __future__ import annotations

import os
import signal

from bot.images.pool import ImagePool
from tests import photos


async def test_a_dead_child_is_replaced_and_the_photo_still_checked() -> None:
    pool = ImagePool(workers=1, max_upload_bytes=20_000_000)
    try:
        await pool.warm()
        first = await pool.check(photos.to_bytes(photos.astronaut()), "photo 1", [])
        assert first.verdict == "accepted"
        for pid in list(pool._pool._processes):
            os.kill(pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
        again = await pool.check(photos.to_bytes(photos.grace_hopper()), "photo 2", [])
        assert again.verdict == "accepted"
        assert again.face is not None
    finally:
        pool.close()
