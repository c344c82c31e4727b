"""Debian's Chromium driven by Playwright, for the tests that look at pages as a person does.

Needs ``KINDBOT_TEST_CHROMIUM`` (default /usr/bin/chromium): without it a test
skips locally and fails on CI. The flags keep Chromium off the network it
cannot reach here (DEVELOPERS.md).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Where Chromium is; skips the test (fails it on CI) when it is missing."""
    path = os.environ.get("KINDBOT_TEST_CHROMIUM", "/usr/bin/chromium")
    if Path(path).exists():
        return path
    message = f"Chromium not found at {path}: apt-get install -y chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


async def launched_browser() -> AsyncIterator[Browser]:
    """One headless Chromium for a test (closed after it)."""
    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        await launched.close()
