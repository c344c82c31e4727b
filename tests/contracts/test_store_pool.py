"""The storage contract, the pool: no round trips around a transaction, yet no dead connection.

PostgreSQL's pool does not ping before each transaction
(:func:`kindbot.storage.engine.create_engine`); a connection the server
closed while it sat in the pool must still never reach a transaction.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from kindbot.storage.engine import create_engine
from kindbot.storage.sql_store import SqlStore


async def test_a_connection_the_server_closed_is_not_handed_out(
    store: SqlStore, db_url: str, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite has no server to close a connection")
    async with store.engine.connect() as conn:  # the pool's one connection
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
    admin = create_engine(db_url)
    try:
        async with admin.connect() as conn:
            await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()
    await asyncio.sleep(0.2)  # the server's goodbye reaches the pooled connection

    async with store.transaction() as tx:
        assert await tx.tenants.list() == []
