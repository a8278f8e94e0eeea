"""End to end in Discord: the real discord.py client against our fake REST + gateway server, a
real redis-server, the real quality gate in its process pool, and a real worker process running
the queue with the fast stand-in studio."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from PIL import ImageOps
from pydantic import SecretStr

from bot.fronts.discord import front as discord_front
from bot.fronts.telegram import front as telegram_front
from bot.host import serve
from bot.service.front import OpenFront
from core.settings import Settings
from tests import photos
from tests.discord_payloads import dm_channel
from tests.fake_discord import TOKEN, FakeDiscord, Sent
from tests.fake_telegram import TOKEN as TELEGRAM_TOKEN
from tests.fake_telegram import FakeTelegram
from tests.queue_harness import queue_settings, worker_process

USER = 777
TOKEN_LIFETIME_S = 1.5  # Discord's is 15 minutes; the long-job test outlives this one


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord(token_lifetime_s=TOKEN_LIFETIME_S)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def bot_settings(tmp_path: Path, redis_url: str, discord: FakeDiscord) -> Settings:
    return queue_settings(
        tmp_path, redis_url,
        discord_token=TOKEN, discord_api_base=discord.api_base,
        discord_gateway_url=discord.gateway_url, discord_guild_id=1234,
        discord_interaction_token_s=TOKEN_LIFETIME_S,
        min_selfies=2, max_selfies=4, gate_workers=1, album_wait_s=0.3,
    )  # fmt: skip


def _fronts(with_telegram: bool) -> Sequence[OpenFront]:
    return [discord_front.open_front] + ([telegram_front.open_front] if with_telegram else [])


@asynccontextmanager
async def running_bot(settings: Settings, with_telegram: bool = False) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, _fronts(with_telegram), stop))
    try:
        yield
    finally:
        stop.set()
        await task


@pytest.fixture
def worker(bot_settings: Settings, tmp_path: Path) -> Iterator[None]:
    with worker_process(bot_settings, tmp_path):
        yield


def _good_selfies() -> list[tuple[str, str, bytes]]:
    face = photos.astronaut()
    mirrored = ImageOps.mirror(face)
    return [("me1.jpg", "image/jpeg", photos.to_bytes(face)),
            ("me2.jpg", "image/jpeg", photos.to_bytes(mirrored))]  # fmt: skip


def _text_has(fragment: str) -> Callable[[Sent], bool]:
    return lambda sent: fragment in sent.text


def _is_pack(sent: Sent) -> bool:
    return sent.photos > 0 and "instant" not in sent.text


def _pack(dc: FakeDiscord) -> list[Sent]:
    return [s for s in dc.sent if _is_pack(s)]


def _checked(sent: Sent) -> bool:
    return any("✓" in b["label"] for row in sent.buttons for b in row)


async def _consent(dc: FakeDiscord) -> None:
    dc.slash(USER, "start")
    await dc.wait_for(_text_has("I agree"))
    dc.press(USER, "consent")
    await dc.wait_for(_text_has("describe you"))
    dc.press(USER, "subject:woman")
    await dc.wait_for(_text_has("Checklist"))


async def _order_pack(dc: FakeDiscord) -> str:
    """Send two good selfies in one message, pick one style and 4 per style; return Start's id."""
    dc.send_files(USER, _good_selfies())
    await dc.wait_for(_text_has("2 good photos"))
    dc.press(USER, "continue")
    menu = await dc.wait_for(_text_has("Pick up to"))
    dc.press(USER, menu.buttons[0][0]["custom_id"].removeprefix("hs:"))
    await dc.wait_for(_checked)
    dc.press(USER, "styles:done")
    await dc.wait_for(_text_has("How many"))
    dc.press(USER, "size:4")
    confirm = await dc.wait_for(_text_has("Ready to make your pack"))
    return str(confirm.buttons[0][0]["custom_id"].removeprefix("hs:"))


async def test_happy_path_delivers_the_pack_once(
    discord: FakeDiscord, bot_settings: Settings, worker: None
) -> None:
    async with running_bot(bot_settings):
        await _consent(discord)
        start = await _order_pack(discord)
        discord.press(USER, start)
        discord.press(USER, start)  # a double tap
        await discord.wait_for(_is_pack, timeout_s=60)
        await asyncio.sleep(1.0)
    verdicts = [s for s in discord.sent if "Photo" in s.text and "2 good photos" in s.text]
    assert len(verdicts) == 1, "two attachments of one message get one reply"
    assert sum(s.photos for s in _pack(discord)) == 4
    assert all(s.channel_id == dm_channel(USER) for s in discord.sent)
    assert [s for s in discord.sent if s.method == "edit"], "progress was never edited"
    records = discord.interactions.values()
    assert all(r.answered_at is not None and not r.late for r in records)


async def test_attachment_that_is_not_an_image(
    discord: FakeDiscord, bot_settings: Settings
) -> None:
    async with running_bot(bot_settings):
        await _consent(discord)
        discord.send_files(USER, [("cv.pdf", "application/pdf", b"%PDF-1.4")])
        await discord.wait_for(_text_has("isn't an image"))
        discord.send_text(USER, "hello?")
        await discord.wait_for(_text_has("waiting for selfies"))
        discord.slash(USER, "privacy")
        await discord.wait_for(_text_has("until 24 h after your pack ends"))
    assert not any("went wrong" in text for text in discord.texts())


async def test_interactions_are_answered_within_3_seconds_even_when_slow(
    discord: FakeDiscord, bot_settings: Settings
) -> None:
    discord.message_delay_s = 3.5  # every message the bot sends takes longer than the deadline
    async with running_bot(bot_settings):
        first = discord.slash(USER, "start")
        await discord.wait_for(_text_has("I agree"), timeout_s=20)
        press = discord.press(USER, "consent")
        await discord.wait_for(_text_has("describe you"), timeout_s=20)
    for interaction_id in (first, press):
        record = discord.interactions[interaction_id]
        assert record.answered_at is not None and not record.late


async def test_job_outliving_the_interaction_token_is_still_delivered(
    discord: FakeDiscord, bot_settings: Settings, tmp_path: Path
) -> None:
    with worker_process(bot_settings, tmp_path, STANDIN_STEP_S="0.4"):
        async with running_bot(bot_settings):
            await _consent(discord)
            press = discord.press(USER, await _order_pack(discord))
            await discord.wait_for(_is_pack, timeout_s=60)
            await asyncio.sleep(0.5)
    pressed = discord.interactions[press].delivered_at
    assert pressed is not None
    late = [s for s in discord.sent if s.at > pressed + TOKEN_LIFETIME_S]
    assert any(s.method == "edit" for s in late), "no progress edit after the token expired"
    assert sum(s.photos for s in _pack(discord)) == 4
    assert discord.expired_token_calls == 0


async def test_restarts_keep_buttons_working_and_deliver_once(
    discord: FakeDiscord, bot_settings: Settings, tmp_path: Path
) -> None:
    with worker_process(bot_settings, tmp_path, STANDIN_STEP_S="0.1"):
        async with running_bot(bot_settings):
            discord.slash(USER, "start")
            await discord.wait_for(_text_has("I agree"))
        async with running_bot(bot_settings):  # a button sent before the restart still works
            discord.press(USER, "consent")
            await discord.wait_for(_text_has("describe you"))
            discord.press(USER, "subject:woman")
            await discord.wait_for(_text_has("Checklist"))
            discord.press(USER, await _order_pack(discord))
            await discord.wait_for(_text_has("In the queue"))
        await asyncio.sleep(3)  # the bot is down while the worker finishes the pack
        assert not _pack(discord)
        async with running_bot(bot_settings):  # a restart between enqueue and delivery
            await discord.wait_for(_is_pack, timeout_s=60)
            await asyncio.sleep(1.5)
    assert sum(s.photos for s in _pack(discord)) == 4
    assert discord.identified == 3


async def test_cancel_during_training(
    discord: FakeDiscord, bot_settings: Settings, tmp_path: Path
) -> None:
    with worker_process(bot_settings, tmp_path, STANDIN_STEP_S="0.5"):
        async with running_bot(bot_settings):
            await _consent(discord)
            discord.press(USER, await _order_pack(discord))
            await discord.wait_for(_text_has("Learning your face"), timeout_s=30)
            discord.slash(USER, "cancel")
            await discord.wait_for(_text_has("Stop making your pack?"))
            discord.press(USER, "cancel:yes")
            await discord.wait_for(_text_has("Stopping your pack"))
            await discord.wait_for(_text_has("ancel"), timeout_s=30)
            discord.slash(USER, "new")
            await discord.wait_for(_text_has("Checklist"))
    assert not _pack(discord)


CORE = ["chat/conversation", "service/chat_service", "delivery/notifier", "chat/menus",
        "text/messages", "chat/session", "service/albums", "service/app", "delivery/endings",
        "text/progress", "service/pack_queue", "chat/events", "chat/sink"]  # fmt: skip
PLATFORMS = {"telegram", "discord", "console"}


@pytest.mark.parametrize("name", CORE)
def test_core_has_no_platform_branches(name: str) -> None:
    path = Path(__file__).resolve().parent.parent / "bot" / f"{name}.py"
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            )
            found = [m for m in modules for p in PLATFORMS if p in (m or "")]
            assert not found, f"bot/{name}.py imports {found}"
        if isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
            literals = {p.value for p in parts if isinstance(p, ast.Constant)} | {
                e.value for p in parts if isinstance(p, ast.Set | ast.Tuple | ast.List)
                for e in p.elts if isinstance(e, ast.Constant)
            }  # fmt: skip
            assert not literals & PLATFORMS, f"bot/{name}.py:{node.lineno} branches on a platform"
            # Routing by the configured set of served platforms is allowed; a literal is not.
            reads = any(isinstance(p, ast.Attribute) and p.attr == "platform" for p in parts)
            fixed = any(isinstance(p, ast.Constant | ast.Set | ast.Tuple | ast.List) for p in parts)
            assert not (reads and fixed), f"bot/{name}.py:{node.lineno} branches on a platform"


async def test_slash_command_in_a_server_answers_in_dms(
    discord: FakeDiscord, bot_settings: Settings
) -> None:
    async with running_bot(bot_settings):
        discord.slash(USER, "help", guild_id=1234)
        await discord.wait_for(lambda s: s.channel_id == dm_channel(USER))
        discord.closed_dms.add(dm_channel(USER))
        discord.slash(USER, "privacy", guild_id=1234)
        await _eventually(lambda: len(discord.webhook_calls) == 2)
    notes = [body.get("content", "") for _, _, body in discord.webhook_calls]
    # With a guild set, commands are synced there (at once) and globally (DMs see only those).
    assert any("/guilds/1234/" in path for path in discord.synced)
    assert any(path.endswith("/commands") and "/guilds/" not in path for path in discord.synced)
    assert "DMs" in notes[0]
    assert "allow DMs" in notes[1]
    assert all(s.channel_id == dm_channel(USER) for s in discord.sent)


async def _eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_one_process_serves_discord_and_telegram_and_routes_deliveries(
    discord: FakeDiscord, bot_settings: Settings, tmp_path: Path
) -> None:
    telegram = FakeTelegram()
    await telegram.start()
    settings = bot_settings.model_copy(
        update={
            "telegram_token": SecretStr(TELEGRAM_TOKEN),
            "telegram_base_url": telegram.base_url,
            "telegram_base_file_url": telegram.base_file_url,
        }
    )
    try:
        with worker_process(settings, tmp_path, STANDIN_STEP_S="0.05"):
            async with running_bot(settings, with_telegram=True):
                telegram.send_text(USER, "/start")
                await telegram.wait_for(lambda s: "I agree" in s.text)
                await _consent(discord)
                discord.press(USER, await _order_pack(discord))
                await discord.wait_for(_is_pack, timeout_s=60)
                await asyncio.sleep(1.0)
    finally:
        await telegram.stop()
    assert sum(s.photos for s in _pack(discord)) == 4
    assert not any(s.photos for s in telegram.sent), "a Discord pack went to Telegram"


async def test_rate_limits_during_progress_and_delivery_are_waited_out(
    discord: FakeDiscord, bot_settings: Settings, tmp_path: Path
) -> None:
    with worker_process(bot_settings, tmp_path, STANDIN_STEP_S="0.05"):
        async with running_bot(bot_settings):
            await _consent(discord)
            start = await _order_pack(discord)
            discord.fail_with_429.update(create=2, edit=3)
            discord.press(USER, start)
            await discord.wait_for(_is_pack, timeout_s=60)
            await asyncio.sleep(1.0)
    assert discord.fail_with_429 == {"create": 0, "edit": 0}  # the storm really happened
    assert sum(s.photos for s in _pack(discord)) == 4
