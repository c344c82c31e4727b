"""Fixtures shared by the whole suite.

``backend`` parametrises storage tests over SQLite and PostgreSQL;
``container`` is a fully wired kindbot (the real composition root) on a
fresh database (a copy of one migrated once per test process) with the demo
bundle applied (and the demo tenant approved, as ``kindbot demo`` does) and a
controllable clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from importlib import resources
from pathlib import Path

import pytest

from kindbot.bootstrap import Container, open_container
from kindbot.bundles.apply import apply_bundle
from kindbot.bundles.tenants import approve_tenant
from kindbot.settings import Settings
from kindbot.storage.sql_store import SqlStore
from tests.support.clock import FakeClock
from tests.support.databases import (
    MigratedPostgres,
    copy_sqlite,
    database_url,
    migrated_postgres_template,
    migrated_sqlite_template,
    run_apart,
)
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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per test process, copied by the tests that need one."""
    path = tmp_path_factory.mktemp("template") / "kindbot.db"
    return run_apart(migrated_sqlite_template(path))


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[MigratedPostgres]:
    """PostgreSQL databases migrated once per test process, lent to one test at a time."""
    databases = MigratedPostgres(run_apart(migrated_postgres_template()))
    yield databases
    run_apart(databases.drop_all())


def migrated_databases(backend: str, request: pytest.FixtureRequest) -> Path | MigratedPostgres:
    """Where ``backend``'s migrated databases come from (only PostgreSQL needs the server)."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        return template
    databases: MigratedPostgres = request.getfixturevalue("postgres_databases")
    return databases


@pytest.fixture
async def store(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[SqlStore]:
    """A store on a database at the head revision with no rows (never migrated here)."""
    databases = migrated_databases(backend, request)
    if isinstance(databases, MigratedPostgres):
        async with databases.database() as url:
            sql_store = SqlStore.for_url(url)
            yield sql_store
            await sql_store.close()
        return
    sql_store = SqlStore.for_url(copy_sqlite(databases, tmp_path / "test.db"))
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
async def settings(
    tmp_path: Path, container_backend: str, request: pytest.FixtureRequest
) -> AsyncIterator[Settings]:
    """Settings inside the test's temporary directory (embedded SQLite, or a fresh PostgreSQL).

    Either database is already migrated and empty: opening it migrates nothing.
    """
    databases = migrated_databases(container_backend, request)
    if isinstance(databases, MigratedPostgres):
        async with databases.database() as url:
            yield settings_for(tmp_path / "data", url)
        return
    copy_sqlite(databases, sqlite_path(tmp_path / "data"))
    yield settings_for(tmp_path / "data", None)


def sqlite_path(data_dir: Path) -> Path:
    """Where kindbot keeps its embedded database in ``data_dir``."""
    return data_dir / "kindbot.db"


def settings_for(data_dir: Path, database_url: str | None) -> Settings:
    """Settings the tests share: the test key, no Redis, private endpoints allowed."""
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
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
