"""What a process remembers of its tenants between messages, and how it knows it is current.

A message needs its channel (with the opened configuration), its tenant, the
tenant's flow definitions and knowledge-base version (``TenantRecord.kb_version``).
Reading them costs statements on every message; they change rarely. So each
process keeps them here — one :class:`TenantCache` per container, bounded,
least recently used out — each entry labelled with the **revision** of its
tenant it was read at (``tenants.revision``, :mod:`kindbot.storage.revisions`:
every write that changes any of them moves it on in the same transaction).

Validation costs no statement of its own: a message's store transaction reads
the tenant's current revision as a column of a statement it runs anyway
(``conversations.open_for_sender``), the outbox worker's claim likewise
(``outbox.claim_due``). An entry is used only when its label equals that
revision; otherwise the tenant's entries are dropped and re-read inside the
same transaction. So a suspension, a disabled channel, a rotated token, a
changed flow or knowledge base takes effect on the next message in every
process.

Entries read outside such a check (a callback's first lookup) carry no label
(``None``): they serve the route until the message's transaction checks them,
which then reads them again, labelled.

Everything here is in-memory bookkeeping (no I/O); the reads are
:class:`kindbot.pipeline.directory.ChannelDirectory`'s and the flow runner's.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

from kindbot.core.records.flows import FlowDefinitions
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

CACHED_CHANNELS = 1024
"""Channels remembered per process (by public id and by id, each)."""
CACHED_TENANTS = 1024
"""Tenants whose flow definitions are remembered per process."""


@dataclass(frozen=True, slots=True)
class ResolvedChannel:
    """A channel, its tenant and its opened configuration JSON."""

    channel: ChannelRecord
    tenant: TenantRecord
    config: str


@dataclass(frozen=True, slots=True)
class Cached(Generic[T]):
    """A remembered value and the tenant revision it was read at (None: not checked)."""

    value: T
    revision: int | None


class TenantCache:
    """Channels (by public id and by id) and flow definitions per tenant, each labelled
    with its tenant's revision; bounded, least recently used out. One per container."""

    def __init__(self, *, channels: int = CACHED_CHANNELS, tenants: int = CACHED_TENANTS) -> None:
        self._channels_kept = channels
        self._tenants_kept = tenants
        self._by_public_id: OrderedDict[str, Cached[ResolvedChannel]] = OrderedDict()
        self._by_id: OrderedDict[str, Cached[ResolvedChannel]] = OrderedDict()
        self._flows: OrderedDict[str, Cached[FlowDefinitions | None]] = OrderedDict()

    def channel_by_public_id(self, public_id: str) -> Cached[ResolvedChannel] | None:
        """The remembered channel with this public id, checked or not."""
        return _get(self._by_public_id, public_id)

    def channel_by_id(self, channel_id: str, revision: int) -> ResolvedChannel | None:
        """The remembered channel, only if it was read at its tenant's ``revision``."""
        cached = _get(self._by_id, channel_id)
        return cached.value if cached is not None and cached.revision == revision else None

    def remember_channel(self, resolved: ResolvedChannel, revision: int | None) -> None:
        """Keep ``resolved``, read at ``revision`` (None: unchecked)."""
        cached = Cached(resolved, revision)
        _put(self._by_public_id, resolved.channel.public_id, cached, self._channels_kept)
        _put(self._by_id, resolved.channel.id, cached, self._channels_kept)

    def flows(self, tenant_id: str, revision: int) -> Cached[FlowDefinitions | None] | None:
        """The tenant's remembered flow definitions, only if read at ``revision``."""
        cached = _get(self._flows, tenant_id)
        return cached if cached is not None and cached.revision == revision else None

    def remember_flows(
        self, tenant_id: str, definitions: FlowDefinitions | None, revision: int
    ) -> None:
        """Keep the tenant's flow definitions (None: it has none), read at ``revision``."""
        _put(self._flows, tenant_id, Cached(definitions, revision), self._tenants_kept)

    def forget_tenant(self, tenant_id: str) -> None:
        """Drop everything remembered of the tenant (its revision moved on)."""
        for entries in (self._by_public_id, self._by_id):
            stale = [k for k, c in entries.items() if c.value.tenant.id == tenant_id]
            for key in stale:
                del entries[key]
        self._flows.pop(tenant_id, None)


def _get(entries: OrderedDict[K, V], key: K) -> V | None:
    value = entries.get(key)
    if value is not None:
        entries.move_to_end(key)
    return value


def _put(entries: OrderedDict[K, V], key: K, value: V, kept: int) -> None:
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > kept:
        entries.popitem(last=False)
