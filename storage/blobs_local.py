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
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        _prune_empty(path.parent, self.root)
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


def _prune_empty(folder: Path, root: Path) -> None:
    """Remove `folder` and its parents below `root` while they are empty.

    An empty folder still tells whose data was here, which jobs ran and which styles were
    chosen; erasure and retention must leave no trace of the person, folders included.
    """
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except FileNotFoundError:
            pass  # a concurrent delete removed it first
        except OSError:
            return  # not empty: something of the folder is still kept
        folder = folder.parent


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _temp_beside(path: Path, tries: int = 3) -> tuple[int, str]:
    """Create a temp file in the key's folder, again if a delete pruned the folder meanwhile."""
    for _ in range(tries - 1):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except FileNotFoundError:
            continue
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=path.parent, prefix=".tmp-")


def _read_limited(path: Path, key: str, max_bytes: int | None) -> bytes:
    try:
        with path.open("rb") as handle:
            if max_bytes is not None and os.fstat(handle.fileno()).st_size > max_bytes:
                raise BlobTooLargeError(f"blob {key!r} is larger than {max_bytes} bytes")
            return handle.read()
    except (FileNotFoundError, IsADirectoryError):
        raise BlobNotFoundError(key) from None
