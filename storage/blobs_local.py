"""Blob store on the local filesystem, for one box; atomic writes, no escape from the root."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from core.errors import BlobNotFoundError, BlobTooLargeError, InvalidKeyError
from storage.keys import validate_key, validate_prefix


class LocalBlobStore:
    """Blobs as files under `root`; a key's segments are folders."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        # Key validation already refuses "..", this guards against symlinks planted in the tree.
        if not path.is_relative_to(self.root):
            raise InvalidKeyError(f"blob key escapes the store root: {key!r}")
        return path

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(_write_atomic, self._path(key), data)

    async def get(self, key: str, max_bytes: int | None = None) -> bytes:
        return await asyncio.to_thread(_read_limited, self._path(key), key, max_bytes)

    async def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    async def delete(self, key: str) -> bool:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    async def list_keys(self, prefix: str = "") -> list[str]:
        return await asyncio.to_thread(self._list_sync, validate_prefix(prefix))

    async def delete_prefix(self, prefix: str) -> int:
        keys = await self.list_keys(prefix)
        deleted = [await self.delete(key) for key in keys]
        return sum(deleted)

    async def close(self) -> None:
        return None

    def _list_sync(self, prefix: str) -> list[str]:
        # Walk only the deepest folder the prefix names, not the whole store.
        folder = self.root / prefix.rpartition("/")[0] if "/" in prefix else self.root
        if not folder.is_dir():
            return []
        keys = []
        for dirpath, _dirs, files in os.walk(folder):
            for name in files:
                if name.startswith("."):
                    continue  # temp files of writes in flight
                key = (Path(dirpath) / name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_limited(path: Path, key: str, max_bytes: int | None) -> bytes:
    try:
        with path.open("rb") as handle:
            if max_bytes is not None and os.fstat(handle.fileno()).st_size > max_bytes:
                raise BlobTooLargeError(f"blob {key!r} is larger than {max_bytes} bytes")
            return handle.read()
    except (FileNotFoundError, IsADirectoryError):
        raise BlobNotFoundError(key) from None
