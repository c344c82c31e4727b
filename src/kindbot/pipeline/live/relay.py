"""Inbox events between processes: Redis pub/sub behind :class:`kindbot.pipeline.live.bus.Relay`.

With several servers an agent's SSE stream (``/inbox/events``) is held by
one of them while the event that concerns it (a customer asks for a person,
writes to the agent, rates the conversation) happens on another. The relay
publishes every event of this process to the Redis channel
``kindbot:inbox:<tenant id>`` and delivers every event it receives on
``kindbot:inbox:*`` — its own included — to the local bus, so each process
delivers each event exactly once, in publishing order per process.

Two owned loops (:meth:`RedisInboxRelay.publish_loop`,
:meth:`RedisInboxRelay.subscribe_loop`) run under the container's
supervisor; :meth:`RedisInboxRelay.forward` never blocks (a bounded queue:
when Redis is unreachable and it fills, newer events are dropped and
counted, and listeners re-read the inbox when they reconnect, as after any
dropped event). Pub/sub is fire-and-forget: an event published while a
process is not subscribed is not replayed to it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict

from redis.asyncio import Redis

from kindbot.pipeline.live.bus import InboxBus, InboxEvent

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "kindbot:inbox:"
PENDING_LIMIT = 10_000


def encode(event: InboxEvent) -> str:
    """``event`` as the JSON text carried on the channel."""
    return json.dumps(asdict(event), ensure_ascii=False, separators=(",", ":"))


def decode(text: str | bytes) -> InboxEvent:
    """The event :func:`encode` wrote; ``ValueError`` on anything else."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("an inbox event is a JSON object")
    try:
        return InboxEvent(
            tenant_id=str(data["tenant_id"]),
            kind=str(data["kind"]),
            conversation_id=str(data["conversation_id"]),
            state=str(data["state"]),
            agent_id=None if data.get("agent_id") is None else str(data["agent_id"]),
            text=None if data.get("text") is None else str(data["text"]),
        )
    except KeyError as exc:
        raise ValueError(f"an inbox event lacks {exc}") from exc


class RedisInboxRelay:
    """Publishes this process's inbox events to Redis and delivers everyone's to ``bus``."""

    def __init__(self, client: Redis, bus: InboxBus) -> None:
        self._client = client
        self._bus = bus
        self._pending: asyncio.Queue[InboxEvent] = asyncio.Queue(PENDING_LIMIT)
        self.dropped = 0
        """Events not sent because the queue was full (Redis unreachable for long)."""
        self.subscribed = asyncio.Event()
        """Set once the subscription is active (events published earlier are not received)."""

    @classmethod
    def from_url(cls, url: str, bus: InboxBus) -> RedisInboxRelay:
        """A relay over a new client of the Redis at ``url`` (connects on first use)."""
        return cls(Redis.from_url(url), bus)

    def forward(self, event: InboxEvent) -> None:
        """Queue ``event`` for Redis (delivered here too when it comes back)."""
        try:
            self._pending.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1

    async def publish_loop(self) -> None:
        """Send queued events to Redis, in order, until cancelled."""
        while True:
            event = await self._pending.get()
            await self._client.publish(CHANNEL_PREFIX + event.tenant_id, encode(event))

    async def subscribe_loop(self) -> None:
        """Deliver every tenant's events received from Redis to the local bus, until cancelled."""
        pubsub = self._client.pubsub()
        try:
            await pubsub.psubscribe(CHANNEL_PREFIX + "*")
            self.subscribed.set()
            async for message in pubsub.listen():
                if message.get("type") != "pmessage":
                    continue
                try:
                    event = decode(message["data"])
                except ValueError as exc:
                    log.warning("ignoring a malformed inbox event: %s", exc)
                    continue
                self._bus.deliver(event)
        finally:
            self.subscribed.clear()
            await pubsub.reset()  # the typed twin of aclose(): releases the connection

    async def aclose(self) -> None:
        """Close the Redis client (after the loops were cancelled)."""
        await self._client.aclose()
