"""The blobs of one pack job under its prefix: stage outputs and the manifests that seal them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from engine.studio.protocol import GeneratedImage, Identity, IdentityFile
from storage.blobs import BlobStore

IDENTITY_MANIFEST = "identity.json"
IDENTITY_FOLDER = "identity/"


class JobBlobs:
    """Reads and writes one job's stored stage outputs."""

    def __init__(self, blobs: BlobStore, prefix: str) -> None:
        self._blobs = blobs
        self.prefix = prefix

    async def load(self, keys: Iterable[str]) -> list[bytes]:
        """Return the blobs under `keys`, in order."""
        return [await self._blobs.get(key) for key in keys]

    async def get(self, name: str) -> bytes | None:
        """Return the job's blob `name`, or None if it is not stored."""
        key = self.prefix + name
        return await self._blobs.get(key) if await self._blobs.exists(key) else None

    async def put(self, name: str, data: bytes) -> str:
        """Store the job's blob `name`; return its key."""
        await self._blobs.put(self.prefix + name, data)
        return self.prefix + name

    async def put_images(self, folder: str, images: Sequence[GeneratedImage]) -> list[Any]:
        """Store images under `folder/style/`; return their manifest items."""
        items = []
        for index, image in enumerate(images):
            key = await self.put(f"{folder}/{image.style_id}/{index:03d}.png", image.png)
            items.append({"key": key, "style_id": image.style_id, "seed": image.seed,
                          "score": image.score})  # fmt: skip
        return items

    async def images(self, items: list[dict[str, Any]]) -> list[GeneratedImage]:
        """Load the images a manifest lists."""
        pngs = await self.load(item["key"] for item in items)
        return [
            GeneratedImage(item["style_id"], item["seed"], png, item["score"])
            for item, png in zip(items, pngs, strict=True)
        ]

    async def manifest(self, name: str) -> dict[str, Any] | None:
        """Return a stage's manifest, or None if the stage is not stored completely."""
        raw = await self.get(name)
        if raw is None:
            return None
        value: dict[str, Any] = json.loads(raw)
        return value

    async def seal(self, name: str, value: dict[str, Any]) -> None:
        """Write a stage's manifest; only after all its blobs, so its presence means complete."""
        await self.put(name, json.dumps(value).encode())

    async def put_identity(self, identity: Identity) -> None:
        """Store the backend's identity artifact, file by file, then its manifest."""
        for item in identity.files:
            await self.put(IDENTITY_FOLDER + item.name, item.data)
        names = [item.name for item in identity.files]
        await self.seal(IDENTITY_MANIFEST, {"kind": identity.kind, "files": names})

    async def identity(self) -> Identity | None:
        """Return the stored identity artifact, or None if it is not stored completely."""
        stored = await self.manifest(IDENTITY_MANIFEST)
        if stored is None:
            return None
        datas = await self.load(self.prefix + IDENTITY_FOLDER + name for name in stored["files"])
        files = tuple(IdentityFile(n, d) for n, d in zip(stored["files"], datas, strict=True))
        return Identity(str(stored["kind"]), files)

    async def remove_all(self) -> int:
        """Delete everything the job stored; return how many blobs went."""
        return await self._blobs.delete_prefix(self.prefix)
