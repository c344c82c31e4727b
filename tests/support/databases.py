"""Test databases: a SQLite file, or a fresh PostgreSQL database per test.

PostgreSQL tests read ``KINDBOT_TEST_POSTGRES_URL`` (an asyncpg SQLAlchemy URL
of a server where the user may create databases). Unset: the tests skip with
the reason — except when ``CI=true``, where a skip would hide a broken setup,
so they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kindbot.storage.engine import create_engine

POSTGRES_ENV = "KINDBOT_TEST_POSTGRES_URL"
REDIS_ENV = "KINDBOT_TEST_REDIS_URL"


def require_env(name: str) -> str:
    """The variable's value; skip (or fail on CI) when it is unset."""
    value = os.environ.get(name)
    if value:
        return value
    message = f"{name} is not set; export it to run these tests (see README, Testing)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """Create an empty database on the test server; drop it afterwards."""
    base = make_url(require_env(POSTGRES_ENV))
    name = f"kindbot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.render_as_string(hide_password=False))
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


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
