"""The contact sheet in Discord: the same controls as buttons on a message after each album.

The real discord.py client against the fake REST + gateway server, a real redis-server, the real
gate in its pool and a real worker process with the stand-in studio.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from bot.chat.contact_sheet import MORE_LIKE_COUNT
from core.settings import Settings
from storage.keys import user_scope
from tests.fake_discord import TOKEN, FakeDiscord, Sent
from tests.queue_harness import queue_settings, studio_calls, worker_process
from tests.test_discord_journey import USER, _consent, _order_pack, _text_has, running_bot
from tests.test_telegram_journey import _redis_keys

KIT = ["profile-avatar.jpg", "profile-signature.jpg", "profile-banner.png"]


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def bot_settings(tmp_path: Path, redis_url: str, discord: FakeDiscord) -> Settings:
    return queue_settings(
        tmp_path, redis_url,
        discord_token=TOKEN, discord_api_base=discord.api_base,
        discord_gateway_url=discord.gateway_url, discord_guild_id=1234,
        min_selfies=2, max_selfies=4, gate_workers=1, album_wait_s=0.3,
    )  # fmt: skip


def _data(sent: Sent) -> list[str]:
    return [b["custom_id"].removeprefix("hs:") for row in sent.buttons for b in row]


def _labels(sent: Sent) -> list[str]:
    return [b["label"] for row in sent.buttons for b in row]


def _job_of(sheet: Sent) -> str:
    return next(d for d in _data(sheet) if d.startswith("zip:")).removeprefix("zip:")


def _colour(png: bytes) -> tuple[int, ...]:
    with Image.open(io.BytesIO(png)) as image:
        pixel = image.convert("RGB").getpixel((0, 0))
        assert isinstance(pixel, tuple)
        return (*image.size, *pixel)


async def test_keep_two_more_like_one_then_done_and_delete_in_discord(
    discord: FakeDiscord, bot_settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    with worker_process(bot_settings, tmp_path):
        async with running_bot(bot_settings):
            await _consent(discord)
            discord.press(USER, await _order_pack(discord))
            sheet = await discord.wait_for(_text_has("images 1-4"), timeout_s=60)
            job = _job_of(sheet)
            assert len(sheet.buttons) <= 5 and all(len(row) <= 5 for row in sheet.buttons)
            discord.press(USER, f"keep:{job}:2")
            await discord.wait_for(lambda s: "✅ 2" in _labels(s))
            discord.press(USER, f"keep:{job}:4")
            kept = await discord.wait_for(lambda s: {"✅ 2", "✅ 4"} <= set(_labels(s)))
            assert kept.method == "edit" and kept.message_id == sheet.message_id
            # The instant retouch is a photo too; on a loaded machine it can come this late.
            await discord.wait_for(_text_has("instant studio retouch"), timeout_s=60)
            since = len(discord.sent)
            discord.press(USER, f"more:{job}:1")
            await discord.wait_for(_text_has(f"Making {MORE_LIKE_COUNT} more like image 1"))
            more = await discord.wait_for(
                lambda s: any(d.startswith("zip:") and d != f"zip:{job}" for d in _data(s)),
                timeout_s=60,
            )
            new_images = sum(s.photos for s in discord.sent[since:])
            discord.press(USER, f"zip:{job}")
            document = await discord.wait_for(lambda s: "headshots.zip" in s.names, timeout_s=60)
            discord.slash(USER, "delete")
            await discord.wait_for(_text_has("Erase everything"))
            discord.press(USER, "delete:yes")
            erased = await discord.wait_for(_text_has("Nothing of you is left"))
            discord.press(USER, f"more:{job}:3")  # the old sheet, after /delete
            await discord.wait_for(_text_has("no longer here"))
    assert new_images == MORE_LIKE_COUNT
    with zipfile.ZipFile(io.BytesIO(document.data[0])) as archive:
        names = archive.namelist()
        pictures = {n: archive.read(n) for n in names}
    assert len(names) == 2 + len(KIT) and names[2:] == KIT
    # The stand-in's first style renders image n as 32x32 (0, 30*(n-1), 200): 2 and 4 kept.
    assert [_colour(pictures[n]) for n in names[:2]] == [(32, 32, 0, 30, 200), (32, 32, 0, 90, 200)]
    assert studio_calls(bot_settings).count("personalize") == 1
    assert "history of 2 pack(s)" in erased.text
    scope, jobs = user_scope("discord", USER), {job, _job_of(more)}
    traces = [k for k in _redis_keys(redis_url) if scope in k or any(j in k for j in jobs)]
    assert not traces, traces
    assert not [p for p in bot_settings.local_storage_root().rglob("*") if p.is_file()]


async def test_done_with_nothing_kept_sends_all_in_zip_parts_within_discords_limit(
    discord: FakeDiscord, bot_settings: Settings, tmp_path: Path
) -> None:
    limit = 12_000  # far below Discord's 10 MiB, so the profile kit alone needs parts
    settings = bot_settings.model_copy(update={"discord_max_file_bytes": limit})
    with worker_process(settings, tmp_path):
        async with running_bot(settings):
            await _consent(discord)
            discord.press(USER, await _order_pack(discord))
            sheet = await discord.wait_for(_text_has("images 1-4"), timeout_s=60)
            discord.press(USER, f"zip:{_job_of(sheet)}")
            await discord.wait_for(_text_has("comes in"), timeout_s=60)
            await discord.wait_for(lambda s: any("-of-" in n for n in s.names))
            told = await discord.wait_for(_text_has("You kept none"))
            await discord.wait_for(
                lambda s: (
                    any(n.endswith(f"-of-{_parts(discord)}.zip") for n in s.names)
                    and len(_zips(discord)) == _parts(discord)
                )
            )
    assert "all 4 headshots" in told.text
    names: list[str] = []
    for data in _zips(discord):
        assert len(data) <= limit
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names += archive.namelist()
    # Named by the sheet's numbers and the style's title, as the person saw them.
    assert names == [f"headshot-0{n}-corporate-grey-studio.png" for n in range(1, 5)] + KIT


def _zips(dc: FakeDiscord) -> list[bytes]:
    return [d for s in dc.sent for n, d in zip(s.names, s.data, strict=True) if n.endswith(".zip")]


def _parts(dc: FakeDiscord) -> int:
    said = next(s.text for s in dc.sent if "comes in" in s.text)
    return int(said.split("comes in ")[1].split(" ")[0])
