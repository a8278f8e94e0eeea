"""The blob store interface: selfies, training crops, LoRA weights and results live here."""

from __future__ import annotations

from typing import Protocol


class BlobStore(Protocol):
    """Async key -> bytes store; keys are validated by `storage.keys.validate_key`."""

    async def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing any blob there, atomically."""

    async def get(self, key: str, max_bytes: int | None = None) -> bytes:
        """Return the blob, raising BlobNotFoundError or BlobTooLargeError."""

    async def exists(self, key: str) -> bool:
        """Return whether a blob is stored under `key`."""

    async def delete(self, key: str) -> bool:
        """Delete the blob; return whether one existed."""

    async def list_keys(self, prefix: str = "") -> list[str]:
        """Return the sorted keys that start with `prefix`."""

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every blob under `prefix`; return how many were deleted."""

    async def close(self) -> None:
        """Release connections."""
