"""Protocols: the seams between layers.

Contract module. Channels implement :class:`ChannelAdapter`; storage backends
implement :class:`Store` and the repositories reached through a
:class:`Transaction`. Everything above storage talks to these Protocols only,
so the same code runs on SQLite and PostgreSQL and the same contract tests
check every backend.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from kindbot.events import DeliveryOutcome, DeliveryRequest
from kindbot.records import (
    IssuedToken,
)
from kindbot.repositories import (
    AccessTokenRepository,
    AuditRepository,
    ChannelRepository,
    ConsentRepository,
    ContactRepository,
    ConversationRepository,
    KfCursorRepository,
    KnowledgeRepository,
    MessageRepository,
    NonceRepository,
    OutboxRepository,
    TenantRepository,
)


class Clock(Protocol):
    """Where "now" comes from (injected so tests control time)."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class TokenSource(Protocol):
    """Access tokens shared by every process (see ``kindbot.pipeline.tokens``)."""

    async def token(
        self,
        *,
        tenant_id: str,
        key: str,
        fetch: Callable[[bool], Awaitable[IssuedToken]],
        stale: str | None = None,
    ) -> str:
        """A valid token for ``key``; pass a token the platform rejected as ``stale``."""
        ...


class ChannelAdapter(Protocol):
    """Delivers outbox items on one kind of channel.

    Parsing and verification of inbound traffic are pure functions in each
    channel's module; the adapter is only the sending edge. ``deliver`` must
    not raise for expected failures: it reports them in the outcome.
    """

    kind: str

    async def deliver(self, request: DeliveryRequest) -> DeliveryOutcome:
        """Attempt one delivery."""
        ...


class Transaction(Protocol):
    """One unit of work: everything done through it commits or rolls back together."""

    @property
    def tenants(self) -> TenantRepository: ...
    @property
    def channels(self) -> ChannelRepository: ...
    @property
    def contacts(self) -> ContactRepository: ...
    @property
    def conversations(self) -> ConversationRepository: ...
    @property
    def messages(self) -> MessageRepository: ...
    @property
    def knowledge(self) -> KnowledgeRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def consents(self) -> ConsentRepository: ...
    @property
    def access_tokens(self) -> AccessTokenRepository: ...
    @property
    def nonces(self) -> NonceRepository: ...
    @property
    def kf_cursors(self) -> KfCursorRepository: ...


class Store(Protocol):
    """A storage backend."""

    def transaction(self, *, readonly: bool = False) -> AbstractAsyncContextManager[Transaction]:
        """Open a unit of work; commits on normal exit, rolls back on exception.

        ``readonly=True`` promises the unit writes nothing, which lets a backend
        run it beside writers.
        """
        ...

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""
        ...

    async def close(self) -> None: ...
