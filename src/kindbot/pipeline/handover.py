"""Handing replies over: the stored outcome of a message, passive claims, releases.

A reply is handed over exactly once: by the caller that received the message
(an HTTP response, a socket, a terminal — ``Pipeline.feed(take=…)``,
:meth:`HandoverMixin.claim_for_passive` or :meth:`HandoverMixin.mark_delivered`)
or by the outbox worker after :meth:`HandoverMixin.release` — never both,
because every hand-over is a conditional update of the outbox row. A reply
taken in the outcome's transaction that the caller then cannot hand over
(its deadline passed) is reopened by :meth:`HandoverMixin.release`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from kindbot.events import FeedResult, SentReply
from kindbot.pipeline.directory import ChannelDirectory
from kindbot.records import MessageRecord
from kindbot.types import Clock, Store, Transaction


class HandoverMixin:
    """The hand-over half of :class:`kindbot.pipeline.feed.Pipeline`."""

    _store: Store
    _clock: Clock
    _directory: ChannelDirectory
    _outbox_ready: asyncio.Event

    async def outcome_by_key(
        self, channel_public_id: str, idempotency_key: str
    ) -> FeedResult | None:
        """The stored outcome of the message with this key, or None if it never arrived."""
        resolved = await self._directory.by_public_id(channel_public_id)
        async with self._store.transaction(readonly=True) as tx:
            message = await tx.messages.find_inbound(resolved.channel.id, idempotency_key)
        if message is None:
            return None
        return await self.outcome(message.id, duplicate=True)

    async def outcome(self, message_id: str, *, duplicate: bool) -> FeedResult:
        """The stored outcome of an inbound message (its replies so far)."""
        async with self._store.transaction(readonly=True) as tx:
            message = await tx.messages.lock_inbound(message_id)
            return await self._outcome(tx, message, duplicate=duplicate)

    async def _outcome(
        self, tx: Transaction, message: MessageRecord, *, duplicate: bool
    ) -> FeedResult:
        sent: list[SentReply] = []
        for reply in await tx.messages.replies_to(message.id):
            item = await tx.outbox.for_message(reply.id)
            if item is not None:
                sent.append(SentReply(item.id, reply.id, reply.text, reply.created_at))
        return FeedResult(
            inbound_message_id=message.id,
            conversation_id=message.conversation_id,
            contact_id=message.contact_id,
            duplicate=duplicate,
            replies=tuple(sent),
            received_at=message.created_at,
        )

    async def claim_for_passive(self, result: FeedResult, limit: int = 1) -> tuple[SentReply, ...]:
        """Take up to ``limit`` replies to hand over in a response, releasing the rest.

        A reply is taken only while no worker has claimed it (so a retried
        request never duplicates a send); replies not taken are released to
        the outbox worker at once.
        """
        async with self._store.transaction() as tx:
            taken = await take_replies(tx, result.replies, limit, self._clock.now())
        if len(taken) < len(result.replies):
            self._outbox_ready.set()
        return taken

    async def release(self, result: FeedResult) -> None:
        """Hand every still-held reply of ``result`` to the outbox worker now,
        including those ``result`` took for the caller (:attr:`FeedResult.taken`)."""
        now = self._clock.now()
        async with self._store.transaction() as tx:
            for reply in result.replies:
                if reply in result.taken:
                    await tx.outbox.reopen(reply.outbox_id, now)
                else:
                    await tx.outbox.release(reply.outbox_id, now)
        if result.replies:
            self._outbox_ready.set()

    async def mark_delivered(self, result: FeedResult) -> None:
        """Record that the caller handed ``result``'s replies to the user itself."""
        if not result.replies:
            return
        now = self._clock.now()
        async with self._store.transaction() as tx:
            for reply in result.replies:
                await tx.outbox.mark_delivered(reply.outbox_id, now)


async def take_replies(
    tx: Transaction, replies: Sequence[SentReply], limit: int, now: datetime
) -> tuple[SentReply, ...]:
    """Record up to ``limit`` of ``replies`` as handed over by the caller — each only
    while no worker has claimed it — and release the rest to the outbox worker."""
    taken: list[SentReply] = []
    for reply in replies:
        if len(taken) < limit and await tx.outbox.deliver_if_pending(reply.outbox_id, now):
            taken.append(reply)
        else:
            await tx.outbox.release(reply.outbox_id, now)
    return tuple(taken)
