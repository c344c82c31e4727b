"""The SQL :class:`kindbot.types.Store`: one transaction = one connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kindbot.storage.repos_core import SqlChannels, SqlContacts, SqlConversations, SqlTenants
from kindbot.storage.repos_ledger import SqlAudit, SqlConsents, SqlKnowledge
from kindbot.storage.repos_messages import SqlMessages, SqlOutbox
from kindbot.storage.repos_platform import SqlAccessTokens, SqlNonces


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


class SqlStore:
    """:class:`kindbot.types.Store` over an async SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTransaction]:
        """Commit on normal exit, roll back on exception."""
        async with self.engine.begin() as conn:
            yield SqlTransaction(conn)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
