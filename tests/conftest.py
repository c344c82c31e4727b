"""Fixtures shared by the whole suite.

``backend`` parametrises storage tests over SQLite and PostgreSQL;
``container`` is a fully wired kindbot (the real composition root) on a
fresh database with the demo bundle applied (and the demo tenant approved, as
``kindbot demo`` does) and a controllable clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

import pytest

from kindbot.bootstrap import Container, open_container
from kindbot.bundles.apply import apply_bundle
from kindbot.bundles.tenants import approve_tenant
from kindbot.settings import Settings
from kindbot.storage import migrate
from kindbot.storage.sql_store import SqlStore
from tests.support.clock import FakeClock
from tests.support.databases import database_url
from tests.support.invariants import assert_audit_chains_verify, assert_every_send_passed_the_guard

TEST_SECRET_KEY = "hBxC0yXlqOAsZ5Q2nPp9pHq2mV1cM2oG9xq5hY0l3Tk="


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each storage test runs once per backend."""
    return str(request.param)


@pytest.fixture
async def db_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh empty database URL for ``backend``."""
    async with database_url(backend, tmp_path) as url:
        yield url


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SqlStore]:
    """A migrated store on a fresh database."""
    sql_store = SqlStore.for_url(db_url)
    await migrate.upgrade(sql_store.engine)
    yield sql_store
    await sql_store.close()


@pytest.fixture
def clock() -> FakeClock:
    """Test time, starting 2026-11-25 10:00 UTC."""
    return FakeClock()


@pytest.fixture
def container_backend() -> str:
    """The database behind ``container``: SQLite unless a test package asks for more."""
    return "sqlite"


@pytest.fixture
async def settings(tmp_path: Path, container_backend: str) -> AsyncIterator[Settings]:
    """Settings inside the test's temporary directory (embedded SQLite, or a fresh PostgreSQL)."""
    async with database_url(container_backend, tmp_path) as url:
        yield Settings(
            data_dir=tmp_path / "data",
            database_url=None if container_backend == "sqlite" else url,
            redis_url=None,
            secret_key=TEST_SECRET_KEY,
            # Tests serve tenants' endpoints (shop APIs, WeChat, LLM stubs) on 127.0.0.1.
            allow_private_endpoints=True,
        )


@pytest.fixture
async def container(settings: Settings, clock: FakeClock) -> AsyncIterator[Container]:
    """The real composition root with the demo bundle applied and approved (no workers).

    After the test, the guard's invariants are checked on whatever the test
    did (``tests/support/invariants.py``).
    """
    async with open_container(settings, clock=clock, auto_migrate=True) as opened:
        bundle = resources.files("kindbot.demo").joinpath("bundle.yaml")
        with resources.as_file(bundle) as path:
            report = await apply_bundle(opened.store, opened.box, path, clock.now())
        await approve_tenant(
            opened.store, report.tenant_slug, reason="demo", actor="tests", now=clock.now()
        )
        yield opened
        await assert_every_send_passed_the_guard(opened.store)
        await assert_audit_chains_verify(opened.store)
