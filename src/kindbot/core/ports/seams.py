"""Protocols: the seams between layers.

Contract module. Channels implement :class:`ChannelAdapter`; storage backends
implement :class:`Store` and the repositories reached through a
:class:`Transaction`. Everything above storage talks to these Protocols only,
so the same code runs on SQLite and PostgreSQL and the same contract tests
check every backend.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from kindbot.core.events import DeliveryOutcome, DeliveryRequest
from kindbot.core.ports.accounts import AccountRepository
from kindbot.core.ports.analytics import BusinessEventRepository, MetricsRepository
from kindbot.core.ports.campaigns import CampaignRepository
from kindbot.core.ports.directory import (
    AttributeRepository,
    DirectoryRepository,
    TimelineRepository,
)
from kindbot.core.ports.flows import FlowRepository
from kindbot.core.ports.guard import (
    BroadcastRepository,
    CounterRepository,
    DeferredSendRepository,
    ModerationTermRepository,
    PlanningRepository,
    TagRepository,
    ViolationRepository,
)
from kindbot.core.ports.journeys import JourneyRepository
from kindbot.core.ports.knowledge import KnowledgeRepository, KnowledgeSettingsRepository
from kindbot.core.ports.ledgers import AuditRepository, ConsentRepository
from kindbot.core.ports.messaging import (
    ChannelRepository,
    ContactRepository,
    ConversationRepository,
    MessageRepository,
    TenantRepository,
)
from kindbot.core.ports.operations import (
    AgentRepository,
    ApiKeyRepository,
    ContactDataRepository,
    HandoffRepository,
    NoteRepository,
)
from kindbot.core.ports.outbox import OutboxRepository
from kindbot.core.ports.platform import (
    AccessTokenRepository,
    KfCursorRepository,
    NonceRepository,
)
from kindbot.core.ports.segments import SegmentRepository
from kindbot.core.records.counters import CounterLimit
from kindbot.core.records.platform import IssuedToken


class Clock(Protocol):
    """Where "now" comes from (injected so tests control time)."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SenderLocks(Protocol):
    """Serialise one sender's messages on one channel (see
    ``kindbot.pipeline.receive.sender_locks``: this process, or every process with Redis)."""

    def hold(self, channel_id: str, sender: str) -> AbstractAsyncContextManager[None]:
        """Held from storing a message until its outcome commits."""
        ...

    async def aclose(self) -> None:
        """Release what the locks hold open (connections)."""
        ...


class TokenSource(Protocol):
    """Access tokens shared by every process (see ``kindbot.pipeline.deliver.tokens``)."""

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
    @property
    def counters(self) -> CounterRepository: ...
    @property
    def tags(self) -> TagRepository: ...
    @property
    def planning(self) -> PlanningRepository: ...
    @property
    def broadcasts(self) -> BroadcastRepository: ...
    @property
    def deferred(self) -> DeferredSendRepository: ...
    @property
    def violations(self) -> ViolationRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def contact_data(self) -> ContactDataRepository: ...
    @property
    def moderation_terms(self) -> ModerationTermRepository: ...
    @property
    def kb(self) -> KnowledgeSettingsRepository: ...
    @property
    def agents(self) -> AgentRepository: ...
    @property
    def handoffs(self) -> HandoffRepository: ...
    @property
    def flows(self) -> FlowRepository: ...
    @property
    def accounts(self) -> AccountRepository: ...
    @property
    def notes(self) -> NoteRepository: ...
    @property
    def events(self) -> BusinessEventRepository: ...
    @property
    def metrics(self) -> MetricsRepository: ...
    @property
    def journeys(self) -> JourneyRepository: ...
    @property
    def attributes(self) -> AttributeRepository: ...
    @property
    def directory(self) -> DirectoryRepository: ...
    @property
    def timeline(self) -> TimelineRepository: ...
    @property
    def segments(self) -> SegmentRepository: ...
    @property
    def campaigns(self) -> CampaignRepository: ...


class SendCounters(Protocol):
    """The guard's counters (database by default, Redis when configured).

    ``reserve`` is atomic across its keys: either every key grows by one, or
    none changes. One contract suite runs against every implementation.
    """

    async def peek(self, keys: Sequence[str]) -> list[int]:
        """Current counts (0 for unknown or expired keys), in the order of ``keys``."""
        ...

    async def reserve(self, limits: Sequence[CounterLimit]) -> str | None:
        """Reserve one unit of each key within its limit; None, or the key at its limit."""
        ...

    async def release(self, keys: Sequence[str]) -> None:
        """Take back one unit of each key (a reserved send that was not made)."""
        ...

    async def reserve_within(self, tx: Transaction, limits: Sequence[CounterLimit]) -> str | None:
        """:meth:`reserve` as part of ``tx`` where the backend can (it then rolls back with it)."""
        ...

    @property
    def joins_transactions(self) -> bool:
        """True when :meth:`reserve_within` commits and rolls back with the transaction."""
        ...

    async def close(self) -> None: ...


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
