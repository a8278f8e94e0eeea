"""One contract for every blob store backend: the local filesystem and a real S3 server."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import boto3
import pytest

from core.errors import BlobNotFoundError, BlobTooLargeError, ConfigError, InvalidKeyError
from core.settings import Settings
from storage.blobs import BlobStore
from storage.blobs_crypto import BlobDecryptionError, EncryptedBlobStore, parse_key
from storage.blobs_local import LocalBlobStore
from storage.blobs_open import open_blob_store
from storage.blobs_s3 import S3BlobStore

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


def _s3_settings(endpoint: str, bucket: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        storage_url=f"s3://{bucket}/tenant-a",
        s3_endpoint_url=endpoint,
        s3_access_key_id="testing",  # type: ignore[arg-type]
        s3_secret_access_key="testing",  # type: ignore[arg-type]
    )


@pytest.fixture(params=["local", "s3", "local-encrypted"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, s3_endpoint: str
) -> AsyncIterator[BlobStore]:
    if request.param == "local":
        blob_store: BlobStore = LocalBlobStore(tmp_path / "blobs")
    elif request.param == "local-encrypted":
        blob_store = EncryptedBlobStore(LocalBlobStore(tmp_path / "blobs"), KEY_A)
    else:
        bucket = f"test-{uuid.uuid4().hex[:12]}"
        boto3.client(
            "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        ).create_bucket(Bucket=bucket)  # fmt: skip
        blob_store = open_blob_store(_s3_settings(s3_endpoint, bucket))
        assert isinstance(blob_store, S3BlobStore)
    yield blob_store
    await blob_store.close()


async def test_put_get_roundtrip(store: BlobStore) -> None:
    await store.put("u1/selfies/a.jpg", b"\xff\xd8jpeg")
    assert await store.get("u1/selfies/a.jpg") == b"\xff\xd8jpeg"
    assert await store.exists("u1/selfies/a.jpg")


async def test_put_replaces(store: BlobStore) -> None:
    await store.put("k", b"old")
    await store.put("k", b"new")
    assert await store.get("k") == b"new"


async def test_missing_blob(store: BlobStore) -> None:
    assert not await store.exists("nope")
    with pytest.raises(BlobNotFoundError):
        await store.get("nope")
    assert await store.delete("nope") is False


async def test_get_size_limit(store: BlobStore) -> None:
    await store.put("big", b"x" * 1000)
    assert await store.get("big", max_bytes=1000) == b"x" * 1000
    with pytest.raises(BlobTooLargeError):
        await store.get("big", max_bytes=999)


async def test_delete(store: BlobStore) -> None:
    await store.put("a/b", b"1")
    assert await store.delete("a/b") is True
    assert not await store.exists("a/b")


async def test_list_and_delete_by_prefix(store: BlobStore) -> None:
    for key in ["u1/selfies/1.jpg", "u1/selfies/2.jpg", "u1/lora/w.safetensors", "u10/x", "u2/y"]:
        await store.put(key, key.encode())
    assert await store.list_keys("u1/") == [
        "u1/lora/w.safetensors",
        "u1/selfies/1.jpg",
        "u1/selfies/2.jpg",
    ]
    assert await store.list_keys("u1/selfies") == ["u1/selfies/1.jpg", "u1/selfies/2.jpg"]
    assert len(await store.list_keys("")) == 5
    assert await store.delete_prefix("u1/") == 3
    assert await store.list_keys("") == ["u10/x", "u2/y"]
    assert await store.list_keys("zz/") == []


@pytest.mark.parametrize(
    "key",
    ["../escape", "a/../../etc/passwd", "/etc/passwd", "", "a//b", "a/./b", ".hidden", "a\\b",
     "a/b/", "x" * 600, "a/\x00b"],
)  # fmt: skip
async def test_unsafe_keys_are_refused(store: BlobStore, key: str) -> None:
    with pytest.raises(InvalidKeyError):
        await store.put(key, b"x")
    with pytest.raises(InvalidKeyError):
        await store.get(key)


async def test_concurrent_puts_leave_a_whole_blob(store: BlobStore) -> None:
    payloads = [bytes([n]) * 50_000 for n in range(8)]
    await asyncio.gather(*(store.put("race", data) for data in payloads))
    assert await store.get("race") in payloads


async def test_local_write_leaves_no_temp_files(tmp_path: Path) -> None:
    local = LocalBlobStore(tmp_path)
    await local.put("a/b.bin", b"123")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b.bin"]


async def test_local_symlink_escape_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(InvalidKeyError):
        await LocalBlobStore(root).put("link/file", b"x")
    assert not any(outside.iterdir())


def test_s3_prefix_isolates_tenants(s3_endpoint: str) -> None:
    settings = _s3_settings(s3_endpoint, "b")
    store = open_blob_store(settings)
    assert isinstance(store, S3BlobStore)
    assert store.prefix == "tenant-a/"


async def test_encrypted_blobs_are_not_readable_on_disk(tmp_path: Path) -> None:
    store = EncryptedBlobStore(LocalBlobStore(tmp_path), KEY_A)
    selfie = b"\xff\xd8 a face " * 100
    await store.put("u1/selfies/a.jpg", selfie)
    on_disk = (tmp_path / "u1" / "selfies" / "a.jpg").read_bytes()
    assert b"a face" not in on_disk
    assert await store.get("u1/selfies/a.jpg") == selfie


async def test_wrong_key_is_a_clear_error_never_garbage(tmp_path: Path) -> None:
    await EncryptedBlobStore(LocalBlobStore(tmp_path), KEY_A).put("k", b"secret")
    with pytest.raises(BlobDecryptionError, match="wrong HEADSHOTS_BLOB_ENCRYPTION_KEY"):
        await EncryptedBlobStore(LocalBlobStore(tmp_path), KEY_B).get("k")


async def test_plain_blob_under_encryption_is_refused(tmp_path: Path) -> None:
    await LocalBlobStore(tmp_path).put("k", b"plain")
    with pytest.raises(BlobDecryptionError, match="not encrypted"):
        await EncryptedBlobStore(LocalBlobStore(tmp_path), KEY_A).get("k")


async def test_blob_moved_to_another_key_does_not_decrypt(tmp_path: Path) -> None:
    store = EncryptedBlobStore(LocalBlobStore(tmp_path), KEY_A)
    await store.put("alice/selfie", b"alice's face")
    (tmp_path / "bob").mkdir()
    (tmp_path / "alice" / "selfie").rename(tmp_path / "bob" / "selfie")
    with pytest.raises(BlobDecryptionError):
        await store.get("bob/selfie")


@pytest.mark.parametrize("encoded", ["", "not base64!", "c2hvcnQ="])
def test_bad_encryption_key_names_the_setting(encoded: str) -> None:
    with pytest.raises(ConfigError, match="HEADSHOTS_BLOB_ENCRYPTION_KEY"):
        parse_key(encoded)


def test_settings_key_turns_encryption_on(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        storage_url=f"file://{tmp_path}",
        blob_encryption_key=base64.b64encode(KEY_A).decode(),  # type: ignore[arg-type]
    )
    assert isinstance(open_blob_store(settings), EncryptedBlobStore)


async def test_local_deletes_leave_no_empty_folders(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    keys = ["p1/jobs/j1/results/grey/0.png", "p1/jobs/j1/crops/0.png", "p1/selfies/a", "p2/s/b"]
    for key in keys:
        await store.put(key, b"x")
    assert await store.delete_prefix("p1/jobs/") == 2
    assert _entries(tmp_path / "blobs" / "p1") == ["selfies"]
    await store.delete("p1/selfies/a")
    assert _entries(tmp_path / "blobs") == ["p2"]  # the store's root stays
    await store.put("p1/selfies/a", b"again")  # a pruned folder is made again on write
    assert await store.get("p1/selfies/a") == b"again"


def _entries(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())
