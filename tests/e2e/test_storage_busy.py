"""Overload is a 503, never a 500: a real pool checkout timeout on PostgreSQL (issue 15).

The server's connection pool is made tiny (1 kept + 1 overflow, 0.2 s
timeout) and the test holds every connection, so the next transaction waits
for the pool and times out — SQLAlchemy's ``TimeoutError``, as under load.
The REST API and the web chat answer 503 ``storage_busy`` (JSON) with
``Retry-After``; a platform callback answers 503 without a body (the platform
retries); each is one WARNING line without a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from importlib import resources

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection
from tests.support.api import HOOK_SECRET, TENANT
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container, open_container
from kindbot.bundles.apply import apply_bundle
from kindbot.bundles.tenants import approve_tenant
from kindbot.channels.webhook import SIGNATURE_HEADER, sign
from kindbot.core.errors import StorageBusyError
from kindbot.settings import Settings
from kindbot.web.app import build_app

POOL_SIZE = 1
HELD = 2 * POOL_SIZE
"""Every connection the pool may open (its size, and as many again under load)."""


@pytest.fixture
def container_backend() -> str:
    """Pool timeouts are PostgreSQL's (SQLite's store serialises writers in-process)."""
    return "postgres"


@pytest.fixture
async def busy(settings: Settings, clock: FakeClock) -> AsyncIterator[Container]:
    """The demo on a server whose every database connection is held by someone else."""
    tiny = replace(settings, database_pool_size=POOL_SIZE, database_pool_timeout_s=0.2)
    async with open_container(tiny, clock=clock, auto_migrate=True) as opened:
        bundle = resources.files("kindbot.demo").joinpath("bundle.yaml")
        with resources.as_file(bundle) as path:
            report = await apply_bundle(opened.store, opened.box, path, clock.now())
        await approve_tenant(
            opened.store, report.tenant_slug, reason="demo", actor="tests", now=clock.now()
        )
        async with AsyncExitStack() as held:
            for _ in range(HELD):
                connection: AsyncConnection = opened.store.engine.connect()
                await held.enter_async_context(connection)
            yield opened


@pytest.fixture
async def client(busy: Container) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(busy), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kindbot") as http:
        yield http


def assert_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelname for r in records] == ["WARNING"], caplog.text
    assert "storage_busy" in records[0].getMessage()
    assert records[0].exc_info is None
    assert not [r for r in caplog.records if r.exc_info], caplog.text


async def test_the_store_reports_a_pool_timeout_as_storage_busy(busy: Container) -> None:
    with pytest.raises(StorageBusyError):
        async with busy.store.transaction():
            pass


async def test_the_rest_api_answers_503_storage_busy_with_retry_after(
    busy: Container, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    admin = {"Authorization": f"Bearer {busy.admin_token}"}
    caplog.set_level("INFO")
    response = await client.get(f"/api/v1/tenants/{TENANT}/audit/verify", headers=admin)

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "storage_busy"
    assert response.json()["error"]["message"]
    assert response.headers["retry-after"] == str(StorageBusyError.retry_after)
    assert_one_warning(caplog)


async def test_the_web_chat_answers_503_storage_busy(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    response = await client.get(f"/chat/{TENANT}.web/info")

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "storage_busy"
    assert response.headers["retry-after"] == str(StorageBusyError.retry_after)
    assert_one_warning(caplog)


async def test_a_platform_callback_answers_503_without_a_body_so_the_platform_retries(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"user": "u1", "text": "运费怎么算", "id": "m1"}).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(HOOK_SECRET, body)}
    caplog.set_level("INFO")
    response = await client.post(f"/channels/{TENANT}.hook/callback", content=body, headers=headers)

    assert response.status_code == 503
    assert response.content == b""
    assert response.headers["retry-after"] == str(StorageBusyError.retry_after)
    assert_one_warning(caplog)
