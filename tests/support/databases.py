"""Test databases: a SQLite file, or a fresh PostgreSQL database per test.

Empty databases are for the tests of migrations; every other test gets a copy
of a database migrated once per test process (:func:`migrated_sqlite_template`,
:func:`migrated_postgres_template`): SQLite copies the template file, PostgreSQL
creates the database with ``TEMPLATE``. A copy is exactly what migrating a fresh
database gives, in a fraction of the time.

PostgreSQL tests read ``KINDBOT_TEST_POSTGRES_URL`` (an asyncpg SQLAlchemy URL
of a server where the user may create databases). Unset: the tests skip with
the reason — except when ``CI=true``, where a skip would hide a broken setup,
so they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kindbot.storage import migrate
from kindbot.storage.engine import create_engine

POSTGRES_ENV = "KINDBOT_TEST_POSTGRES_URL"
REDIS_ENV = "KINDBOT_TEST_REDIS_URL"

T = TypeVar("T")


def require_env(name: str) -> str:
    """The variable's value; skip (or fail on CI) when it is unset."""
    value = os.environ.get(name)
    if value:
        return value
    message = f"{name} is not set; export it to run these tests (see README, Testing)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion on its own loop in another thread.

    For session fixtures: pytest-asyncio may set them up while a test's loop runs.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _postgres_url(database: str) -> str:
    """The test server's URL for ``database``."""
    base = make_url(require_env(POSTGRES_ENV))
    return base.set(database=database).render_as_string(hide_password=False)


async def _postgres_admin(statement: str) -> None:
    """Run ``statement`` (CREATE/DROP DATABASE) outside a transaction on the test server."""
    admin = create_engine(require_env(POSTGRES_ENV)).execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


@asynccontextmanager
async def fresh_postgres_database(template: str | None = None) -> AsyncIterator[str]:
    """Create a database on the test server (empty, or a copy of ``template``); drop it after."""
    name = f"kindbot_test_{uuid.uuid4().hex[:12]}"
    copied = f' TEMPLATE "{template}"' if template else ""
    await _postgres_admin(f'CREATE DATABASE "{name}"{copied}')
    try:
        yield _postgres_url(name)
    finally:
        await _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def migrated_sqlite_template(path: Path) -> Path:
    """A SQLite database at ``path``, migrated to the head revision."""
    await _migrate(f"sqlite+aiosqlite:///{path}")
    return path


async def migrated_postgres_template() -> str:
    """The name of a new database on the test server, migrated to the head, for ``TEMPLATE``.

    Its engine is disposed: a template must have no open connection when it is copied.
    """
    name = f"kindbot_template_{uuid.uuid4().hex[:12]}"
    await _postgres_admin(f'CREATE DATABASE "{name}"')
    await _migrate(_postgres_url(name))
    return name


async def drop_postgres_database(name: str) -> None:
    """Drop ``name`` on the test server (connections or not)."""
    await _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


OTHER_SESSIONS = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
EVERY_TABLE = (
    "SELECT quote_ident(tablename) FROM pg_tables"
    " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
)
EVERY_SEQUENCE = "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public'"


async def empty_postgres_database(name: str) -> None:
    """Bring migrated database ``name`` back to as-migrated: no rows, sequences restarted.

    A fresh migrated database holds no rows (no migration inserts any into an empty
    one). Sessions a test left open are ended first (their locks would block).
    DELETE with foreign-key triggers off (``session_replication_role``), not
    TRUNCATE: TRUNCATE makes new files for every table and index (0.8 s here).
    """
    engine = create_engine(_postgres_url(name))
    try:
        async with engine.connect() as conn:
            await conn.execute(text(OTHER_SESSIONS))
            await conn.commit()
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in (await conn.execute(text(EVERY_TABLE))).scalars().all():
                await conn.execute(text(f"DELETE FROM {table}"))
            for sequence in (await conn.execute(text(EVERY_SEQUENCE))).scalars().all():
                await conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))
            await conn.commit()
    finally:
        await engine.dispose()


class MigratedPostgres:
    """One test process's migrated PostgreSQL databases, each lent to one test at a time.

    Databases are copies of ``template`` (``CREATE DATABASE … TEMPLATE``), made when
    every earlier copy is lent out, and emptied when their test is done
    (:func:`empty_postgres_database`) rather than dropped: on a server that syncs to
    disk, CREATE and DROP DATABASE cost about a second each (DROP forces a
    checkpoint); emptying a migrated database costs milliseconds.
    """

    def __init__(self, template: str) -> None:
        self.template = template
        self._made: list[str] = []
        self._free: list[str] = []

    @asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        """The URL of a migrated database with no rows, the caller's until the block ends."""
        name = self._free.pop() if self._free else await self._copy()
        yield _postgres_url(name)
        await empty_postgres_database(name)
        self._free.append(name)

    async def _copy(self) -> str:
        name = f"kindbot_test_{uuid.uuid4().hex[:12]}"
        await _postgres_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self._made.append(name)
        return name

    async def drop_all(self) -> None:
        """Drop every copy and the template (at the end of the test session)."""
        for name in [*self._made, self.template]:
            await drop_postgres_database(name)


def copy_sqlite(template: Path, path: Path) -> str:
    """``template`` copied to ``path`` by SQLite's backup (consistent in any journal mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    return f"sqlite+aiosqlite:///{path}"


def sqlite_database(tmp_path: Path) -> str:
    """A SQLite file URL inside the test's temporary directory."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@asynccontextmanager
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database of ``backend`` ("sqlite" or "postgres")."""
    if backend == "sqlite":
        yield sqlite_database(tmp_path)
        return
    async with fresh_postgres_database() as url:
        yield url
