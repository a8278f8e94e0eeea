"""Blob store on any S3-compatible service (AWS, MinIO, R2); boto3 calls run in threads."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from core.errors import BlobNotFoundError, BlobTooLargeError, StorageError
from core.settings import Settings
from storage.keys import validate_key, validate_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys per call


class S3BlobStore:
    """Blobs as objects under `prefix` in `bucket`."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        """Build the store and its client from `s3://bucket/prefix` and the S3 settings."""
        parsed = urlparse(settings.storage_url)
        secret = settings.s3_secret_access_key
        key_id = settings.s3_access_key_id
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=key_id.get_secret_value() if key_id else None,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )
        return cls(client, parsed.netloc, parsed.path)

    def _object(self, key: str) -> str:
        return self.prefix + validate_key(key)

    async def put(self, key: str, data: bytes) -> None:
        # A single PutObject is atomic: readers see the old object or the new one, never a mix.
        name = self._object(key)
        await _call(self._client.put_object, Bucket=self.bucket, Key=name, Body=data)

    async def get(self, key: str, max_bytes: int | None = None) -> bytes:
        name = self._object(key)
        try:
            response = await _call(self._client.get_object, Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _code(exc) in {"NoSuchKey", "404"}:
                raise BlobNotFoundError(key) from None
            raise StorageError(f"S3 get {key!r} failed: {_code(exc)}") from exc
        body = response["Body"]
        if max_bytes is not None and response["ContentLength"] > max_bytes:
            body.close()
            raise BlobTooLargeError(f"blob {key!r} is larger than {max_bytes} bytes")
        return await asyncio.to_thread(body.read)

    async def exists(self, key: str) -> bool:
        name = self._object(key)
        try:
            await _call(self._client.head_object, Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise StorageError(f"S3 head {key!r} failed: {_code(exc)}") from exc
        return True

    async def delete(self, key: str) -> bool:
        existed = await self.exists(key)
        if existed:
            await _call(self._client.delete_object, Bucket=self.bucket, Key=self._object(key))
        return existed

    async def list_keys(self, prefix: str = "") -> list[str]:
        full = self.prefix + validate_prefix(prefix)
        names = await asyncio.to_thread(self._list_sync, full)
        return sorted(name.removeprefix(self.prefix) for name in names)

    async def delete_prefix(self, prefix: str) -> int:
        keys = await self.list_keys(prefix)
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": self.prefix + key} for key in keys[start : start + _DELETE_BATCH]]
            reply = await _call(
                self._client.delete_objects, Bucket=self.bucket, Delete={"Objects": batch}
            )
            if reply.get("Errors"):  # per-key failures come back inside a 200 response
                failed = [error.get("Key") for error in reply["Errors"]]
                raise StorageError(f"S3 could not delete {len(failed)} blob(s), e.g. {failed[0]}")
        return len(keys)

    async def close(self) -> None:
        self._client.close()

    def _list_sync(self, full_prefix: str) -> list[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        names: list[str] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix):
            names.extend(item["Key"] for item in page.get("Contents", []))
        return names


async def _call(method: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(method, **kwargs)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))
