"""A re-roll on the worker: a few new images of one style from a delivered pack, no training.

The pack job stored the person's identity artifact (the LoRA, or the chosen references) under
its own blob prefix; it is kept until the retention time, and a re-roll renders from it. Its own
candidates and results go under the re-roll's prefix, so retention and /delete treat a re-roll
like any pack.
"""

from __future__ import annotations

from engine.jobs import FailureCode, StyleResult
from engine.jobs.contract import CodedError, Reroll
from engine.jobs.keys import RESULTS_MANIFEST, job_prefix
from engine.jobs.quality import PackQuality
from engine.studio.protocol import Identity, RenderOrder
from engine.worker.job_blobs import JobBlobs
from engine.worker.pack_job import PackRun


class RerollExpiredError(CodedError):
    """The pack's identity or selfies were deleted (retention or /delete): nothing to reuse."""

    failure_code = FailureCode.EXPIRED


class RerollRun(PackRun):
    """Runs one try of a re-roll: the parent's identity, then generate and select."""

    measures_eta = False  # a few images would drag the full packs' estimates down

    async def _stages(self) -> tuple[tuple[StyleResult, ...], PackQuality | None]:
        identity = await self._parent_identity()
        selfies = await self._stored_selfies()
        candidates = await self._candidates(identity)
        return await self._selected(candidates, selfies)

    @property
    def _reroll(self) -> Reroll:
        assert self._req.reroll is not None  # runner only builds a RerollRun for a re-roll
        return self._req.reroll

    async def _parent_identity(self) -> Identity:
        parent = self._reroll.identity_job_id
        stored = JobBlobs(self._res.blobs, job_prefix(self._req.user_scope, parent))
        identity = await stored.identity()
        if identity is None:
            raise RerollExpiredError(f"the identity of {parent} is gone")
        return identity

    async def _stored_selfies(self) -> list[bytes]:
        keys = self._req.selfie_keys
        if not all([await self._res.blobs.exists(key) for key in keys]):
            raise RerollExpiredError("the selfies of the pack are gone")
        return await self._blobs.load(keys)

    async def _order(self) -> RenderOrder:
        reroll, count = self._reroll, self._req.pack_size
        if not reroll.image_key:
            return await super()._order()  # a fresh set of the style
        seed = await self._seed_of(reroll.source_job_id, reroll.image_key)
        reference = await self._res.blobs.get(reroll.image_key)
        # Variations are close to each other: a small surplus is enough for the filter.
        return RenderOrder(self._req.style_ids, count + 1, seed, reference)

    async def _seed_of(self, job_id: str, key: str) -> int:
        """Return the seed of a delivered image, from the manifest of the job that made it."""
        source = JobBlobs(self._res.blobs, job_prefix(self._req.user_scope, job_id))
        manifest = await source.manifest(RESULTS_MANIFEST) or {"items": []}
        found = [item for item in manifest["items"] if item["key"] == key]
        if not found or not await self._res.blobs.exists(key):
            raise RerollExpiredError("the chosen image is gone")
        return int(found[0]["seed"])
