"""Debian's Chromium driven by Playwright for Python: no browser download, one at a time.

The test set-up installs chromium where it is missing (`make browser`), as it does redis-server.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Browser, BrowserContext, ViewportSize, async_playwright

CHROMIUM = "/usr/bin/chromium"
PHONE: ViewportSize = {"width": 390, "height": 844}  # the iPhone 12-15 viewport, in CSS pixels


def system_chromium() -> str:
    """Return Debian's chromium, failing loudly where the set-up did not install it."""
    found = shutil.which("chromium") or (CHROMIUM if shutil.which(CHROMIUM) else None)
    if found is None:
        pytest.fail("chromium is missing: run `make browser` (apt-get install chromium)")
    return found


@asynccontextmanager
async def phone() -> AsyncIterator[BrowserContext]:
    """Yield a browser context with a phone's viewport; the browser is closed after the block."""
    async with async_playwright() as playwright:
        # --no-sandbox: the tests may run as root (containers), where Chromium's sandbox refuses.
        browser: Browser = await playwright.chromium.launch(
            executable_path=system_chromium(), headless=True, args=["--no-sandbox"]
        )
        try:
            context = await browser.new_context(
                viewport=PHONE, device_scale_factor=2, accept_downloads=True, locale="en-US"
            )
            yield context
            await context.close()
        finally:
            await browser.close()
