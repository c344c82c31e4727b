"""The SQL :class:`kindbot.core.ports.seams.Store`: one transaction = one connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Connection, Engine, RootTransaction, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine

from kindbot.core.errors import StorageBusyError
from kindbot.storage.engine import (
    DEFAULT_POOL,
    READONLY_OPTION,
    SQLITE_BUSY_TIMEOUT_S,
    PoolLimits,
    create_engine,
    create_inline_engine,
)
from kindbot.storage.executor import AsyncExecutor, Executor, InlineExecutor
from kindbot.storage.repos_accounts import SqlAccounts
from kindbot.storage.repos_agents import SqlAgents, SqlHandoffs, SqlNotes
from kindbot.storage.repos_api import SqlApiKeys
from kindbot.storage.repos_attributes import SqlAttributes
from kindbot.storage.repos_audit import SEAL_BATCH, SealApart, SqlAudit
from kindbot.storage.repos_campaigns import SqlCampaigns
from kindbot.storage.repos_conversations import SqlContacts, SqlConversations
from kindbot.storage.repos_core import SqlChannels, SqlTenants
from kindbot.storage.repos_directory import SqlDirectory
from kindbot.storage.repos_events import SqlBusinessEvents
from kindbot.storage.repos_flows import SqlFlows
from kindbot.storage.repos_guard import SqlCounters, SqlPlanning, SqlTags
from kindbot.storage.repos_journeys import SqlJourneys
from kindbot.storage.repos_kb import SqlKnowledgeSettings
from kindbot.storage.repos_ledger import SqlConsents, SqlKnowledge
from kindbot.storage.repos_messages import SqlMessages
from kindbot.storage.repos_metrics import SqlMetrics
from kindbot.storage.repos_moderation import SqlModerationTerms
from kindbot.storage.repos_outbox import SqlOutbox
from kindbot.storage.repos_platform import SqlAccessTokens, SqlNonces
from kindbot.storage.repos_rights import SqlContactData
from kindbot.storage.repos_segments import SqlSegments
from kindbot.storage.repos_sends import SqlBroadcasts, SqlDeferred, SqlViolations
from kindbot.storage.repos_timeline import SqlTimeline
from kindbot.storage.repos_wecom import SqlKfCursors


class SqlTransaction:
    """:class:`kindbot.core.ports.seams.Transaction` bound to one open connection."""

    def __init__(self, conn: Executor, *, seal_apart: SealApart | None = None) -> None:
        self.tenants = SqlTenants(conn)
        self.channels = SqlChannels(conn)
        self.contacts = SqlContacts(conn)
        self.conversations = SqlConversations(conn)
        self.messages = SqlMessages(conn)
        self.knowledge = SqlKnowledge(conn)
        self.outbox = SqlOutbox(conn)
        self.audit = SqlAudit(conn, seal_apart=seal_apart)
        self.consents = SqlConsents(conn)
        self.access_tokens = SqlAccessTokens(conn)
        self.nonces = SqlNonces(conn)
        self.kf_cursors = SqlKfCursors(conn)
        self.counters = SqlCounters(conn)
        self.tags = SqlTags(conn)
        self.planning = SqlPlanning(conn)
        self.broadcasts = SqlBroadcasts(conn)
        self.deferred = SqlDeferred(conn)
        self.violations = SqlViolations(conn)
        self.api_keys = SqlApiKeys(conn)
        self.contact_data = SqlContactData(conn, self.audit)
        self.moderation_terms = SqlModerationTerms(conn)
        self.kb = SqlKnowledgeSettings(conn)
        self.agents = SqlAgents(conn)
        self.handoffs = SqlHandoffs(conn)
        self.flows = SqlFlows(conn)
        self.accounts = SqlAccounts(conn)
        self.notes = SqlNotes(conn)
        self.events = SqlBusinessEvents(conn)
        self.metrics = SqlMetrics(conn)
        self.journeys = SqlJourneys(conn)
        self.attributes = SqlAttributes(conn)
        self.directory = SqlDirectory(conn)
        self.timeline = SqlTimeline(conn)
        self.segments = SqlSegments(conn)
        self.campaigns = SqlCampaigns(conn)


class SqlStore:
    """The ``Store`` of :mod:`kindbot.core.ports.seams` over an async SQLAlchemy engine.

    One implementation for SQLite and PostgreSQL.

    SQLite allows one writer at a time. Left to SQLite, waiting writers poll
    with growing sleeps (its busy handler), which turns contention into
    seconds of tail latency; so in this process writers queue on a fair
    asyncio lock instead. Another process's write lock is waited for with
    asynchronous back-off (SQLite's own busy wait would block the event loop),
    up to :data:`~kindbot.storage.engine.SQLITE_BUSY_TIMEOUT_S`. Read-only
    transactions take no lock and run beside the writer (WAL).

    ``inline_engine`` (SQLite only, :func:`kindbot.storage.engine.create_inline_engine`):
    transactions run on it, synchronously on the loop's thread
    (:class:`kindbot.storage.executor.InlineExecutor`); ``engine`` then only
    serves migrations and tools.
    """

    def __init__(self, engine: AsyncEngine, inline_engine: Engine | None = None) -> None:
        self.engine = engine
        self._inline = inline_engine
        self._writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @property
    def transaction_engine(self) -> Engine:
        """The (synchronous view of the) engine whose connections run the store's transactions."""
        return self._inline if self._inline is not None else self.engine.sync_engine

    @classmethod
    def for_url(cls, url: str, pool: PoolLimits = DEFAULT_POOL) -> SqlStore:
        """A store on the database at ``url`` (no I/O until first used); ``pool``
        sizes PostgreSQL's connection pool."""
        return cls(create_engine(url, pool), create_inline_engine(url))

    @asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[SqlTransaction]:
        """Commit on normal exit, roll back on exception.

        ``readonly`` promises that nothing is written: SQLite then starts a
        deferred transaction and does not wait for the writer; PostgreSQL runs
        each statement on its own (autocommit: no ``BEGIN``/``COMMIT`` round
        trips), which is all the consistency its READ COMMITTED transactions
        give across statements too.
        """
        if readonly or self._writer is None:
            async with self._begin(readonly) as tx:
                yield tx
            return
        async with self._writer, self._begin(readonly) as tx:
            yield tx

    @asynccontextmanager
    async def _begin(self, readonly: bool) -> AsyncIterator[SqlTransaction]:
        """A transaction on a pooled connection; :class:`StorageBusyError` when the
        pool gave none within its timeout (every connection busy: overload)."""
        try:
            async with self._begin_on_connection(readonly) as tx:
                yield tx
        except PoolTimeoutError as error:
            raise _busy() from error

    @asynccontextmanager
    async def _begin_on_connection(self, readonly: bool) -> AsyncIterator[SqlTransaction]:
        if self._inline is not None:
            with self._inline.connect() as sync_conn:
                if readonly:
                    sync_conn = sync_conn.execution_options(**{READONLY_OPTION: True})
                began = await _begin_inline(sync_conn)
                seal_apart = self._sealer_for(sync_conn) if readonly else None
                try:
                    yield SqlTransaction(InlineExecutor(sync_conn), seal_apart=seal_apart)
                except BaseException:
                    began.rollback()
                    raise
                began.commit()
            return
        async with self.engine.connect() as conn:
            if readonly:
                # Each statement its own snapshot, as READ COMMITTED gives within a
                # transaction anyway, without the BEGIN and COMMIT round trips.
                conn = await conn.execution_options(
                    **{READONLY_OPTION: True}, isolation_level="AUTOCOMMIT"
                )
            async with conn.begin():
                seal_apart = self.seal_audit if readonly else None
                yield SqlTransaction(AsyncExecutor(conn), seal_apart=seal_apart)

    async def seal_audit(self, tenant_id: str) -> None:
        """Seal every pending audit entry of the tenant now, one bounded batch per
        transaction — the sequencer's own path (``tx.audit.seal_pending``), waiting
        for a sealer that holds the tenant's head."""
        while True:
            async with self.transaction() as tx:
                sealed = await tx.audit.seal_pending(tenant_id)
            if sealed is None or len(sealed) < SEAL_BATCH:
                return

    def _sealer_for(self, reading: Connection) -> SealApart:
        """How a read-only SQLite transaction on ``reading`` seals before it reads:
        in write transactions of its own, then with a fresh read snapshot (a
        read-only unit promises no consistency across statements, as on PostgreSQL)."""

        async def seal_then_see(tenant_id: str) -> None:
            await self.seal_audit(tenant_id)
            reading.exec_driver_sql("COMMIT")
            reading.exec_driver_sql("BEGIN")

        return seal_then_see

    async def ping(self) -> None:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except PoolTimeoutError as error:
            raise _busy() from error

    async def close(self) -> None:
        if self._inline is not None:
            self._inline.dispose()
        await self.engine.dispose()


def _busy() -> StorageBusyError:
    """The overload a pool checkout timeout means, in the words callers map (HTTP 503)."""
    return StorageBusyError(
        "the server is busy (no database connection was free in time); try again shortly"
    )


async def _begin_inline(conn: Connection) -> RootTransaction:
    """Begin a transaction, retrying while SQLite reports another process's lock.

    The inline connection's own busy wait is kept to milliseconds (it blocks
    the event loop); longer waits happen here, asynchronously, up to
    :data:`~kindbot.storage.engine.SQLITE_BUSY_TIMEOUT_S`.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SQLITE_BUSY_TIMEOUT_S
    delay = _FIRST_RETRY_S
    while True:
        try:
            return conn.begin()
        except OperationalError as exc:
            if not _is_locked(exc) or loop.time() + delay > deadline:
                raise
        conn.rollback()
        await asyncio.sleep(delay)
        delay = min(delay * 2, _LAST_RETRY_S)


_FIRST_RETRY_S = 0.002
_LAST_RETRY_S = 0.1


def _is_locked(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig)
