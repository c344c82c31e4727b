"""The SQL :class:`kindbot.types.Store`: one transaction = one connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kindbot.storage.engine import READONLY_OPTION
from kindbot.storage.repos_core import SqlChannels, SqlContacts, SqlConversations, SqlTenants
from kindbot.storage.repos_ledger import SqlAudit, SqlConsents, SqlKnowledge
from kindbot.storage.repos_messages import SqlMessages
from kindbot.storage.repos_outbox import SqlOutbox
from kindbot.storage.repos_platform import SqlAccessTokens, SqlNonces
from kindbot.storage.repos_wecom import SqlKfCursors


class SqlTransaction:
    """:class:`kindbot.types.Transaction` bound to one open connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.tenants = SqlTenants(conn)
        self.channels = SqlChannels(conn)
        self.contacts = SqlContacts(conn)
        self.conversations = SqlConversations(conn)
        self.messages = SqlMessages(conn)
        self.knowledge = SqlKnowledge(conn)
        self.outbox = SqlOutbox(conn)
        self.audit = SqlAudit(conn)
        self.consents = SqlConsents(conn)
        self.access_tokens = SqlAccessTokens(conn)
        self.nonces = SqlNonces(conn)
        self.kf_cursors = SqlKfCursors(conn)


class SqlStore:
    """:class:`kindbot.types.Store` over an async SQLAlchemy engine (SQLite or PostgreSQL).

    SQLite allows one writer at a time. Left to SQLite, waiting writers poll
    with growing sleeps (its busy handler), which turns contention into
    seconds of tail latency; so in this process writers queue on a fair
    asyncio lock instead and SQLite's busy timeout only arbitrates between
    processes. Read-only transactions take no lock and run beside the writer
    (WAL).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[SqlTransaction]:
        """Commit on normal exit, roll back on exception.

        ``readonly`` promises that nothing is written (SQLite then starts a
        deferred transaction and does not wait for the writer).
        """
        if readonly or self._writer is None:
            async with self._begin(readonly) as tx:
                yield tx
            return
        async with self._writer, self._begin(readonly) as tx:
            yield tx

    @asynccontextmanager
    async def _begin(self, readonly: bool) -> AsyncIterator[SqlTransaction]:
        async with self.engine.connect() as conn:
            if readonly:
                conn = await conn.execution_options(**{READONLY_OPTION: True})
            async with conn.begin():
                yield SqlTransaction(conn)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
