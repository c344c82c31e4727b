"""Live inbox updates: a per-tenant publish/subscribe, across processes with Redis.

Each listener (an SSE stream of ``/inbox/events``) holds a bounded queue;
delivering puts the event on every queue of the tenant in this process. A
full queue drops the event for that listener only (a stalled client cannot
grow memory); it re-reads the inbox when it reconnects. Events are published
after the transaction that caused them committed, never before.

With ``KINDBOT_REDIS_URL`` the bus has a relay
(:class:`kindbot.pipeline.live.relay.RedisInboxRelay`): publishing hands the
event to Redis, and every process — this one included — delivers what it
receives from there, so an agent connected to any server sees every event.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

QUEUE_SIZE = 100


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """Something an agent's inbox should show at once.

    ``kind``: ``waiting`` (a conversation asks for a person), ``assigned``
    (``agent_id`` has it now), ``message`` (the contact wrote while a person
    handles it; ``text`` is the message), ``resolved``, ``rated``.
    """

    tenant_id: str
    kind: str
    conversation_id: str
    state: str
    agent_id: str | None = None
    text: str | None = None


@dataclass(slots=True)
class InboxNotes:
    """Events of one transaction, published by :meth:`InboxBus.publish_all` after commit."""

    events: list[InboxEvent] = field(default_factory=list)

    def add(self, event: InboxEvent) -> None:
        """Queue ``event`` for publishing once the transaction committed."""
        self.events.append(event)


class Relay(Protocol):
    """Carries published events to every process's bus (which then delivers them)."""

    def forward(self, event: InboxEvent) -> None:
        """Send ``event`` on its way (never blocks; delivery happens later)."""
        ...


class InboxBus:
    """Per-tenant listeners of this process (owned by the container).

    ``relay``: None delivers published events in this process at once;
    otherwise they travel through the relay and come back to :meth:`deliver`.
    """

    def __init__(self, relay: Relay | None = None) -> None:
        self._queues: defaultdict[str, set[asyncio.Queue[InboxEvent]]] = defaultdict(set)
        self.relay = relay

    def subscribe(self, tenant_id: str) -> asyncio.Queue[InboxEvent]:
        """A new queue receiving the tenant's events until :meth:`unsubscribe`."""
        queue: asyncio.Queue[InboxEvent] = asyncio.Queue(QUEUE_SIZE)
        self._queues[tenant_id].add(queue)
        return queue

    def unsubscribe(self, tenant_id: str, queue: asyncio.Queue[InboxEvent]) -> None:
        """Stop delivering to ``queue``."""
        self._queues[tenant_id].discard(queue)
        if not self._queues[tenant_id]:
            del self._queues[tenant_id]

    def publish(self, event: InboxEvent) -> None:
        """Publish ``event``: through the relay when there is one, else :meth:`deliver` it."""
        if self.relay is not None:
            self.relay.forward(event)
        else:
            self.deliver(event)

    def deliver(self, event: InboxEvent) -> int:
        """Put ``event`` on each listener's queue of its tenant here; returns how many took it."""
        taken = 0
        for queue in list(self._queues.get(event.tenant_id, ())):
            try:
                queue.put_nowait(event)
                taken += 1
            except asyncio.QueueFull:
                continue
        return taken

    def publish_all(self, notes: InboxNotes) -> None:
        """Publish every queued event of a committed transaction, in order."""
        for event in notes.events:
            self.publish(event)
        notes.events.clear()

    def listeners(self, tenant_id: str) -> int:
        """Open listeners of the tenant in this process."""
        return len(self._queues.get(tenant_id, ()))
