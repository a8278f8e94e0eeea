"""The blob store interface: selfies, training crops, LoRA weights and results live here."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlparse

from core.settings import Settings


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


def open_blob_store(settings: Settings) -> BlobStore:
    """Build the blob store that `settings.storage_url` names, encrypted if a key is set."""
    store = _open_backend(settings)
    if settings.blob_encryption_key is None:
        return store
    from storage.blobs_crypto import EncryptedBlobStore, parse_key

    return EncryptedBlobStore(store, parse_key(settings.blob_encryption_key.get_secret_value()))


def _open_backend(settings: Settings) -> BlobStore:
    parsed = urlparse(settings.storage_url)
    if parsed.scheme == "s3":
        from storage.blobs_s3 import S3BlobStore

        return S3BlobStore.from_settings(settings)
    from storage.blobs_local import LocalBlobStore

    return LocalBlobStore(settings.local_storage_root())
