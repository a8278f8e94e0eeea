"""Open the blob store that the settings name: local files or S3, encrypted when a key is set.

Apart from the interface (storage.blobs), so the encrypting store can import the interface it
wraps without a circle.
"""

from __future__ import annotations

from urllib.parse import urlparse

from core.settings import Settings
from storage.blobs import BlobStore


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
