"""Engine construction: the database URL, SQLite pragmas and write serialisation.

SQLite runs in WAL mode with a busy timeout, foreign keys on, and every
writing transaction opened with ``BEGIN IMMEDIATE`` so that concurrent writers
queue instead of failing with "database is locked" on a read-to-write upgrade;
read-only transactions use a deferred ``BEGIN`` and never wait for a writer.

SQLite gets two engines on the same file: the async one (aiosqlite) for
migrations and tools, and a synchronous *inline* one that the store's
transactions run on, on the event loop's thread
(:mod:`kindbot.storage.executor` says why). The inline engine's busy timeout
is a few milliseconds — waiting for another process's lock must not block the
loop; :class:`kindbot.storage.sql_store.SqlStore` retries with asynchronous
back-off instead.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_S = 30
"""How long a writer waits for another process's write lock before giving up."""
INLINE_BUSY_TIMEOUT_MS = 10
"""How long one inline SQLite call may block the event loop waiting for a lock."""
READONLY_OPTION = "kindbot_readonly"
"""Execution option marking a connection's transaction as read-only (deferred BEGIN on SQLite)."""


def sqlite_url(data_dir: Path) -> str:
    """The default database URL: a SQLite file inside the data directory."""
    return f"sqlite+aiosqlite:///{(data_dir / 'kindbot.db').resolve()}"


def is_sqlite(url: str) -> bool:
    """True for SQLite URLs."""
    return make_url(url).get_backend_name() == "sqlite"


@dataclass(frozen=True, slots=True)
class PoolLimits:
    """PostgreSQL's connection pool per process: ``size`` kept open, as many again
    opened under load, and how long a transaction waits for one before it fails
    with :class:`kindbot.core.errors.StorageBusyError` (HTTP 503)."""

    size: int = 10
    timeout_s: float = 30.0


DEFAULT_POOL = PoolLimits()


def create_engine(url: str, pool: PoolLimits = DEFAULT_POOL) -> AsyncEngine:
    """An async engine for ``url`` with the backend's settings applied (``pool``: PostgreSQL's)."""
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _configure_sqlite(engine.sync_engine, SQLITE_BUSY_TIMEOUT_S * 1000)
        return engine
    engine = create_async_engine(
        url, pool_size=pool.size, max_overflow=pool.size, pool_timeout=pool.timeout_s
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no connection the server has closed, without a round trip to find out.

    asyncpg reads its socket all the time, so a connection the server ended
    (a restart, an idle timeout, ``pg_terminate_backend``) is known closed at
    once; the pool then drops it and checks out another
    (``DisconnectionError``). This replaces ``pool_pre_ping``, which costs
    three round trips (``BEGIN``, ``;``, ``ROLLBACK``) before every transaction.
    A connection cut without the server saying so (a network partition) fails
    its next statement instead, as it would fail a ping.

    The pool's reset on return stays on: a connection given back in the middle
    of a transaction is rolled back; after a commit or rollback it costs nothing.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def create_inline_engine(url: str) -> Engine | None:
    """For a SQLite ``url``, the synchronous engine the store's transactions run on inline."""
    if not is_sqlite(url):
        return None
    sync_url = make_url(url).set(drivername="sqlite+pysqlite")
    engine = sa_create_engine(
        sync_url,
        connect_args={"timeout": INLINE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        # The store ends every transaction itself (commit or rollback) before the
        # connection goes back, so the pool's own reset would be a second
        # rollback per transaction (a third of an empty transaction's cost).
        pool_reset_on_return=None,
    )
    _configure_sqlite(engine, INLINE_BUSY_TIMEOUT_MS)
    return engine


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below control transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        readonly = connection.get_execution_options().get(READONLY_OPTION, False)
        begin = "BEGIN" if readonly else "BEGIN IMMEDIATE"
        driver = connection.connection.driver_connection
        if not isinstance(driver, sqlite3.Connection):  # aiosqlite (tools): through SQLAlchemy
            connection.exec_driver_sql(begin)
            return
        # The inline engine: straight on the sqlite3 connection, past SQLAlchemy's
        # execution context (a third of an empty transaction's CPU), its error
        # wrapped as SQLAlchemy would (``database is locked`` is retried on that).
        try:
            driver.execute(begin)
        except sqlite3.OperationalError as error:
            raise OperationalError(begin, None, error) from error
