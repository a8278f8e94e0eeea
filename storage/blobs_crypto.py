"""Encryption at rest for any blob store: AES-256-GCM, transparent to the rest of the code.

Each blob is `MAGIC + nonce + ciphertext-with-tag`, and its key is the associated data, so a blob
copied under another person's key fails to decrypt instead of being served to them.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import BlobTooLargeError, ConfigError, StorageError
from storage.blobs import BlobStore

MAGIC = b"HSE1"
NONCE_BYTES = 12
OVERHEAD = len(MAGIC) + NONCE_BYTES + 16  # the GCM tag is 16 bytes


class BlobDecryptionError(StorageError):
    """A blob could not be decrypted: wrong key, not encrypted, or tampered with."""


def parse_key(encoded: str) -> bytes:
    """Return the 32-byte key from its base64 text, or raise ConfigError naming the setting."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ConfigError(
            "HEADSHOTS_BLOB_ENCRYPTION_KEY: must be 32 bytes in base64 "
            "(make one with: openssl rand -base64 32)"
        )
    return key


class EncryptedBlobStore:
    """Wraps a blob store; blobs are encrypted on put and decrypted on get."""

    def __init__(self, inner: BlobStore, key: bytes) -> None:
        self._inner = inner
        self._aead = AESGCM(key)

    async def put(self, key: str, data: bytes) -> None:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, data, key.encode())
        await self._inner.put(key, MAGIC + nonce + sealed)

    async def get(self, key: str, max_bytes: int | None = None) -> bytes:
        limit = None if max_bytes is None else max_bytes + OVERHEAD
        try:
            blob = await self._inner.get(key, limit)
        except BlobTooLargeError:
            raise BlobTooLargeError(f"blob {key!r} is larger than {max_bytes} bytes") from None
        return self._open(key, blob)

    async def exists(self, key: str) -> bool:
        return await self._inner.exists(key)

    async def delete(self, key: str) -> bool:
        return await self._inner.delete(key)

    async def list_keys(self, prefix: str = "") -> list[str]:
        return await self._inner.list_keys(prefix)

    async def delete_prefix(self, prefix: str) -> int:
        return await self._inner.delete_prefix(prefix)

    async def close(self) -> None:
        await self._inner.close()

    def _open(self, key: str, blob: bytes) -> bytes:
        if not blob.startswith(MAGIC):
            raise BlobDecryptionError(f"blob {key!r} is not encrypted with this store's format")
        nonce, sealed = (
            blob[len(MAGIC) : len(MAGIC) + NONCE_BYTES],
            blob[len(MAGIC) + NONCE_BYTES :],
        )
        try:
            return self._aead.decrypt(nonce, sealed, key.encode())
        except InvalidTag:
            raise BlobDecryptionError(
                f"blob {key!r} does not decrypt: wrong HEADSHOTS_BLOB_ENCRYPTION_KEY, or tampered"
            ) from None
