"""End-to-end tests on the real composition root run on every storage backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser
from tests.support.browser import launched_browser

from kindbot.bootstrap import Container
from kindbot.web.app import build_app


@pytest.fixture(params=["sqlite", "postgres"])
def container_backend(request: pytest.FixtureRequest) -> str:
    """Each end-to-end test that uses `container` runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium for this test (``tests/support/browser.py``)."""
    async for launched in launched_browser():
        yield launched


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the container's app in-process (ASGI)."""
    transport = httpx.ASGITransport(app=build_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
def admin(container: Container) -> dict[str, str]:
    """The platform admin's bearer header."""
    return {"Authorization": f"Bearer {container.admin_token}"}
