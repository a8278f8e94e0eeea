"""The gallery in a real browser: Debian's Chromium on a phone viewport, opened as Telegram opens
a Mini App (init data in the URL fragment), against the real bot, a real worker process with the
stand-in studio and a real redis-server. The chat and the gallery share the contact sheet's state;
forged, foreign, expired and erased cases get a plain refusal and never an image.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Page, expect
from redis.asyncio import Redis

from bot.chat.contact_sheet import MORE_LIKE_COUNT
from bot.fronts.gallery.auth import LINK, SESSION, Grant, issue
from bot.fronts.gallery.pack import PackReader
from bot.fronts.gallery.routes import Gallery, GalleryKeys, gallery_app
from bot.images.pool import ImagePool
from core.settings import Settings
from engine.jobs.records import open_state
from storage.blobs_open import open_blob_store
from storage.keys import user_scope
from tests.browser import phone
from tests.fake_telegram import TOKEN, FakeTelegram, Sent
from tests.queue_harness import running_bot, telegram_settings, worker_process
from tests.servers import free_port
from tests.test_gallery_auth import signed_init_data
from tests.test_telegram_journey import USER, _consent, _order_pack, _text_has

SECRET = "gallery-secret-for-tests-only-0123456789"
PUBLIC = "https://gallery.example"
KIT = ["profile-avatar.jpg", "profile-signature.jpg", "profile-banner.png"]
THEME = {"bg_color": "#17212b", "text_color": "#f5f5f5", "hint_color": "#708499",
         "button_color": "#5288c1", "button_text_color": "#ffffff",
         "secondary_bg_color": "#232e3c"}  # fmt: skip
# Where the README's screenshot comes from: GALLERY_SCREENSHOT=docs/gallery.png pytest this file.
SCREENSHOT = os.environ.get("GALLERY_SCREENSHOT", "")


@pytest.fixture
def bot_settings(tmp_path: Path, redis_url: str, telegram: FakeTelegram) -> Settings:
    return telegram_settings(
        tmp_path, redis_url, telegram, public_url=PUBLIC, gallery_secret=SECRET,
        gallery_listen="127.0.0.1", gallery_port=free_port(),
    )  # fmt: skip


def _init_data(user: int, auth_date: float | None = None) -> str:
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user, "first_name": "Ada", "language_code": "en"}),
        "auth_date": str(int(auth_date or time.time())),
    }
    return signed_init_data(fields, TOKEN)


def _mini_app(settings: Settings, pack: str, init_data: str) -> str:
    """Return the address a Telegram client opens: ours, plus its launch data in the fragment."""
    fragment = (f"tgWebAppData={quote(init_data)}&tgWebAppVersion=8.0&tgWebAppPlatform=android"
                f"&tgWebAppThemeParams={quote(json.dumps(THEME))}")  # fmt: skip
    return f"{_local(settings)}/gallery/?pack={pack}#{fragment}"


def _local(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.gallery_port}"


def _gallery_button(sent: Sent) -> str | None:
    for row in sent.buttons:
        for button in row:
            web_app = button.get("web_app")
            if isinstance(web_app, dict):
                return str(web_app["url"])
    return None


def _labels(sent: Sent) -> list[str]:
    return [button["text"] for row in sent.buttons for button in row]


async def _thumbnails_loaded(page: Page, count: int) -> None:
    """Wait until every thumbnail has loaded (lazy, but all of them are in view)."""
    script = "[...document.querySelectorAll('figure.tile img')].map(i => i.naturalWidth)"
    deadline = time.monotonic() + 30
    while True:
        widths = await page.evaluate(script)  # not wait_for_function: the CSP forbids its eval
        if len(widths) == count and all(widths):
            return
        assert time.monotonic() < deadline, f"thumbnails not loaded: {widths}"
        await asyncio.sleep(0.1)


@asynccontextmanager
async def _replica(settings: Settings) -> AsyncIterator[str]:
    """Serve a second gallery in this process on its own connections; yield its address."""
    state, blobs = open_state(settings.redis_url), open_blob_store(settings)
    redis = Redis.from_url(settings.redis_url)
    images = ImagePool(1, settings.max_upload_bytes)  # its children start only if used
    keys = GalleryKeys(SECRET.encode(), TOKEN, 3600, 3600)
    gallery = Gallery(keys, PackReader(state, redis, {}), state, blobs, images, {})
    runner = web.AppRunner(gallery_app(gallery))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        images.close()
        await redis.aclose()
        await blobs.close()
        await state.close()


async def _status(http: aiohttp.ClientSession, method: str, url: str, **kw: object) -> int:
    async with http.request(method, url, **kw) as response:  # type: ignore[arg-type]
        await response.read()
        return response.status


async def test_open_keep_two_more_like_this_and_download_the_zip(
    telegram: FakeTelegram, bot_settings: Settings, tmp_path: Path
) -> None:
    with worker_process(bot_settings, tmp_path, HEADSHOTS_GALLERY_SECRET=SECRET):
        async with running_bot(bot_settings), phone() as browser:
            await _consent(telegram)
            telegram.press(USER, await _order_pack(telegram))
            offer = await telegram.wait_for(lambda s: _gallery_button(s) is not None, timeout_s=60)
            await telegram.wait_for(_text_has("images 1-4"), timeout_s=60)
            address = _gallery_button(offer)
            assert address is not None and address.startswith(f"{PUBLIC}/gallery/?pack=")
            [pack] = parse_qs(urlparse(address).query)["pack"]

            page = await browser.new_page()
            await page.goto(_mini_app(bot_settings, pack, _init_data(USER)))
            tiles = page.locator("figure.tile")
            await tiles.nth(3).locator("img").wait_for()
            assert await tiles.count() == 4
            assert "tgWebAppData" not in page.url  # the page forgets the init data at once
            bg = await page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert bg == "rgb(23, 33, 43)"  # Telegram's theme, not the page's own colours

            await tiles.nth(0).locator("img").click()
            await expect(page.locator("figure.tile.kept")).to_have_count(1)
            await tiles.nth(2).locator("img").click()
            await expect(page.locator("figure.tile.kept")).to_have_count(2)
            # One source of truth: the chat's contact sheet shows the same two kept.
            await telegram.wait_for(lambda s: {"✅ 1", "✅ 3"} <= set(_labels(s)))

            await tiles.nth(1).locator("button[aria-label='🔁 More like this']").click()
            await page.get_by_text(f"Making {MORE_LIKE_COUNT} more like image 2").wait_for()
            total = 4 + MORE_LIKE_COUNT
            await expect(tiles).to_have_count(total, timeout=60_000)
            await _thumbnails_loaded(page, total)
            await page.locator("#toast").wait_for(state="hidden")
            shot = Path(SCREENSHOT) if SCREENSHOT else tmp_path / "gallery.png"
            await page.screenshot(path=str(shot))

            async with page.expect_download() as download:
                await page.locator("#done").click()
            got = await download.value
            archive = tmp_path / got.suggested_filename
            await got.save_as(archive)
            await page.close()
    assert archive.name == "headshots.zip"
    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as zipped:
        names = zipped.namelist()
    assert len(names) == 2 + len(KIT) and names[2:] == KIT
    assert shot.stat().st_size > 10_000


async def test_forged_foreign_expired_and_erased_get_a_plain_refusal_never_an_image(
    telegram: FakeTelegram, bot_settings: Settings, tmp_path: Path
) -> None:
    local = _local(bot_settings)
    secret = SECRET.encode()
    scope = user_scope("telegram", USER)
    with worker_process(bot_settings, tmp_path, HEADSHOTS_GALLERY_SECRET=SECRET):
        async with running_bot(bot_settings), phone() as browser, aiohttp.ClientSession() as http:
            await _consent(telegram)
            telegram.press(USER, await _order_pack(telegram))
            offer = await telegram.wait_for(lambda s: _gallery_button(s) is not None, timeout_s=60)
            [pack] = parse_qs(urlparse(str(_gallery_button(offer))).query)["pack"]
            await telegram.wait_for(_text_has("images 1-4"), timeout_s=60)
            page = await browser.new_page()

            async def refusal(address: str) -> str:
                await page.goto("about:blank")  # a new fragment alone would not reload the page
                response = await page.goto(address)
                if response is not None and response.status >= 400:  # a link, refused at once
                    assert await page.locator("img").count() == 0
                    return await page.locator("body").inner_text()
                await page.locator("#refused").wait_for()  # init data, refused to the page
                assert await page.locator("figure.tile").count() == 0
                return await page.locator("#refused").inner_text()

            forged = _init_data(USER).replace(str(USER), str(USER + 1), 1)
            assert "could not tell who you are" in await refusal(
                _mini_app(bot_settings, pack, forged)
            )
            old = _init_data(USER, auth_date=time.time() - 2 * 3600)
            assert "expired" in await refusal(_mini_app(bot_settings, pack, old))
            stranger = _init_data(USER + 1)  # really signed, but for someone else
            assert "not yours" in await refusal(_mini_app(bot_settings, pack, stranger))

            session = f"{local}/gallery/api/session"
            forged_body = {"json": {"init_data": forged, "pack": pack}}
            assert await _status(http, "POST", session, **forged_body) == 401
            foreign_body = {"json": {"init_data": stranger, "pack": pack}}
            assert await _status(http, "POST", session, **foreign_body) == 403

            link = issue(secret, LINK, Grant(scope, pack, int(time.time()) + 600))
            expired = issue(secret, LINK, Grant(scope, pack, int(time.time()) - 1))
            assert await _status(http, "GET", f"{local}/gallery/?link={expired}") == 401
            assert "expired" in await refusal(f"{local}/gallery/?link={expired}")
            await page.goto(f"{local}/gallery/?link={link}")  # the Discord/console way in
            await page.locator("figure.tile img").nth(3).wait_for()

            img = f"{local}/gallery/img/{pack}/1"
            own = issue(secret, SESSION, Grant(scope, pack, int(time.time()) + 600))
            theirs = issue(secret, SESSION, Grant(user_scope("telegram", 1), pack, 2**40))
            async with http.get(f"{img}?s={own}") as response:
                assert response.status == 200 and response.content_type == "image/jpeg"
                assert response.headers["Cache-Control"] == "private, no-store"
                assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            assert await _status(http, "GET", img) == 401  # no session: the page alone is not it
            assert await _status(http, "GET", f"{img}?s={link}") == 401  # a link is no session
            assert await _status(http, "GET", f"{img}?s={theirs}") == 403
            press = {"json": {"data": f"keep:{pack}:1"}, "headers": {"X-Gallery-Session": theirs}}
            assert await _status(http, "POST", f"{local}/gallery/api/press", **press) == 403

            # A second replica, sharing only Redis, the blob store and the secret, serves the
            # session the first one opened, and sees the keep made through the first.
            mine = {"json": {"data": f"keep:{pack}:2"}, "headers": {"X-Gallery-Session": own}}
            assert await _status(http, "POST", f"{local}/gallery/api/press", **mine) == 200
            async with _replica(bot_settings) as other:
                async with http.get(f"{other}/gallery/api/pack?s={own}") as response:
                    [grid] = (await response.json())["styles"]
                assert [tile["kept"] for tile in grid["tiles"]] == [False, True, False, False]
                assert await _status(http, "GET", f"{other}/gallery/img/{pack}/2?s={own}") == 200
                assert await _status(http, "GET", f"{other}/gallery/img/{pack}/2") == 401

            telegram.send_text(USER, "/delete")
            await telegram.wait_for(_text_has("Erase everything"))
            telegram.press(USER, "delete:yes")
            await telegram.wait_for(_text_has("Nothing of you is left"))
            assert await _status(http, "GET", f"{img}?s={own}") == 410
            assert await _status(http, "GET", f"{local}/gallery/zip?s={own}") == 410
            assert "deleted" in await refusal(f"{local}/gallery/?link={link}")
            await page.close()
