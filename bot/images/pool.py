"""The image work of the bot (quality gate, instant retouch) in a pool of processes.

The children import mediapipe and dlib; the bot process never does. Results cross the process
boundary as plain data (see `bot.images.child`), so unpickling them imports nothing heavy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bot.chat.session import Selfie
from bot.images import child as image_child
from bot.text.gate import gate_text
from engine.quality.report import FaceRecord, Verdict
from ops import metrics as ops


@dataclass(frozen=True)
class GateResult:
    """The gate's verdict on one photo, as the bot needs it."""

    verdict: Verdict
    summary: str
    codes: tuple[str, ...]
    face: FaceRecord | None  # what the set's next checks compare against
    # With this photo added: the labels that show the person, and those of someone else.
    person: tuple[tuple[str, ...], tuple[str, ...]] | None = None


log = logging.getLogger(__name__)


class ImagePool:
    """A pool of processes, each with the face models loaded once at start."""

    def __init__(self, workers: int, max_upload_bytes: int, log_file: Path | None = None) -> None:
        self._max_bytes = max_upload_bytes
        self._workers = workers
        self._log_file = None if log_file is None else str(log_file)  # the children's output
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # "spawn": forking a process that holds an event loop and sockets is unsafe.
        context = get_context("spawn")
        return ProcessPoolExecutor(
            self._workers, context, initializer=image_child.warm_up, initargs=(self._log_file,)
        )

    async def warm(self) -> None:
        """Start every child and load its models now rather than on the first selfie."""
        loop = asyncio.get_running_loop()
        pings = [loop.run_in_executor(self._pool, image_child.ping) for _ in range(self._workers)]
        await asyncio.gather(*pings)

    async def retouch(self, data: bytes, background: str, aspect: str, brand_colour: str) -> bytes:
        """Return the instant studio retouch (JPEG) of one selfie."""
        image = await self._run(image_child.retouch, data, background, aspect, brand_colour)
        return bytes(image)

    async def profile_kit(self, headshot: bytes, brand_colour: str) -> dict[str, bytes]:
        """Return {"avatar", "signature", "banner"} image files made from one headshot."""
        kit = await self._run(image_child.profile_kit, headshot, brand_colour)
        return {str(name): bytes(data) for name, data in kit.items()}

    async def thumbnail(self, image: bytes, side_px: int) -> bytes:
        """Return a small JPEG of a delivered image, for the gallery's grid."""
        return bytes(await self._run(image_child.thumbnail, image, side_px))

    async def check(
        self,
        data: bytes,
        label: str,
        prior: Sequence[Selfie],
        counted: Sequence[str] | None = None,
    ) -> GateResult:
        """Check one photo against the set's selfies and those set aside (`prior`).

        `counted` names the selfies that count as the person now (all of `prior` when None).
        """
        faces = [selfie.face for selfie in prior]
        raw = await self._run(image_child.check, data, label, faces, counted, self._max_bytes)
        person = raw["person"] and (tuple(raw["person"][0]), tuple(raw["person"][1]))
        summary = gate_text(raw["summary"])  # in the person's language, as the engine meant
        result = GateResult(
            Verdict(raw["verdict"]), summary, tuple(raw["codes"]), raw["face"], person or None
        )
        ops.count_photo(result.verdict, result.codes)
        return result

    async def hints(self, selfies: Sequence[Selfie], min_count: int, max_count: int) -> list[str]:
        """Return suggestions that would make the set more varied."""
        faces = [selfie.face for selfie in selfies]
        found = await self._run(image_child.hints, faces, min_count, max_count)
        return [gate_text(hint) for hint in found]

    async def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, function, *args)
        except BrokenProcessPool:
            # A child died (killed for memory, a crash in native code): the whole executor is
            # unusable from then on. Start a fresh one and try this photo once more.
            log.error("an image worker process died; starting a new pool")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return await loop.run_in_executor(self._pool, function, *args)

    def close(self) -> None:
        """Stop the children."""
        self._pool.shutdown(wait=True, cancel_futures=True)
