"""Handing replies over: the stored outcome of a message, passive claims, confirmations.

A reply is ``delivered`` only when it is known to have left. A caller that
hands replies over itself (a WeChat passive reply, the webhook's response
body) first *claims* them — outbox status ``handed_over`` under a fresh claim
token, with a lease of :data:`HANDOVER_LEASE` — in ``Pipeline.feed(take=…)``'s
outcome transaction or with :meth:`HandoverMixin.claim_for_passive`. After its
response was sent it *confirms* them (``handed_over → delivered``); if the
caller was gone it *gives them back* (due at once for the outbox worker) —
both through :class:`kindbot.pipeline.handover.settlements.SettlementWriter`,
which commits many responses' settlements in one transaction. Too late for
the deadline, :meth:`HandoverMixin.release` gives the replies back. If the
process dies in between, the claim stays unconfirmed: a retry of the same
request claims the reply again for its own answer, and once the lease ran out
without a confirmation the outbox worker claims it and sends it through the
channel's API.

Never both: every step is a conditional update of the outbox row — a worker
claims only ``pending`` rows and expired hand-overs, a hand-over never takes a
row a worker holds, and only the newest claim's token confirms or gives back.

A process killed after its response's last byte was written but before the
confirmation committed leaves a hand-over that *was* received. The caller
tells the two cases apart: one that did not get its answer retries within
:data:`RETRY_WINDOW`. So an unconfirmed hand-over of such a caller whose lease ran
out is recorded as delivered by a worker whose process was serving callbacks
before the caller's last retry could arrive (nobody retried: the answer
arrived), and sent through the channel's API otherwise (every retry found no
server, or the caller cannot retry: a webhook message without an id).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from kindbot.core.events import FeedResult, Handover, SentReply
from kindbot.core.ports.seams import Clock, Store, Transaction
from kindbot.core.records.conversations import MessageRecord
from kindbot.core.records.outbox import RETRYING_CALLER, OutboxStatus
from kindbot.pipeline.directory import ChannelDirectory

RETRY_WINDOW = timedelta(seconds=15)
"""A caller that did not get its answer retries within this time: WeChat retries
three times, 5 s apart; a webhook caller is expected to retry the same way."""

HANDOVER_LEASE = RETRY_WINDOW + timedelta(seconds=5)
"""How long an unconfirmed hand-over keeps the outbox worker away: past the
caller's last retry (which claims the reply for its own answer) and its response."""


def new_token(*, retries: bool) -> str:
    """A fresh hand-over claim token (32 characters): ``r…`` when the caller retries
    a request whose answer it did not get (WeChat; a webhook message with an id)."""
    return (RETRYING_CALLER if retries else "n") + secrets.token_hex(16)[1:]


class HandoverMixin:
    """The hand-over half of :class:`kindbot.pipeline.receive.feed.Pipeline`."""

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

    async def claim_for_passive(
        self, result: FeedResult, limit: int = 1, *, echo: bool = False
    ) -> Handover:
        """The replies this request hands over itself, up to ``limit``, releasing the rest.

        What ``feed(take=…)`` already claimed for this request, else (a retry:
        the earlier answer never arrived) a fresh claim of each reply that is
        still ``pending`` or held by an earlier, unconfirmed hand-over — never
        one a worker claimed or that was delivered. ``echo`` (the webhook: a
        retry gets the first response back) also lists replies an earlier
        response delivered. Replies not taken are released to the worker at once.
        """
        if result.handover is not None:
            return result.handover
        token = new_token(retries=True)  # only a retried request claims here
        now = self._clock.now()
        async with self._store.transaction() as tx:
            taken = await take_replies(tx, result.replies, limit, now, token, again=True)
            if echo:
                taken = await _with_echoes(tx, result.replies, taken)
        if len(taken) < len(result.replies):
            self._outbox_ready.set()
        return Handover(token, taken)

    async def release(self, result: FeedResult) -> None:
        """Hand every still-held reply of ``result`` to the outbox worker now,
        including those ``result`` took for the caller (:attr:`FeedResult.taken`)."""
        now = self._clock.now()
        async with self._store.transaction() as tx:
            for reply in result.replies:
                if reply in result.taken and result.handover_token is not None:
                    await tx.outbox.give_back(reply.outbox_id, result.handover_token, now)
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
    tx: Transaction,
    replies: Sequence[SentReply],
    limit: int,
    now: datetime,
    token: str,
    *,
    again: bool = False,
) -> tuple[SentReply, ...]:
    """Claim up to ``limit`` of ``replies`` for the caller's hand-over under ``token``
    (:meth:`kindbot.core.ports.outbox.OutboxRepository.hand_over`) and release the rest to the
    outbox worker."""
    taken: list[SentReply] = []
    lease_until = now + HANDOVER_LEASE
    for reply in replies:
        if len(taken) < limit and await tx.outbox.hand_over(
            reply.outbox_id, token=token, lease_until=lease_until, again=again
        ):
            taken.append(reply)
        else:
            await tx.outbox.release(reply.outbox_id, now)
    return tuple(taken)


async def _with_echoes(
    tx: Transaction, replies: Sequence[SentReply], taken: Sequence[SentReply]
) -> tuple[SentReply, ...]:
    """``taken`` plus the replies an earlier response delivered, in ``replies``' order."""
    listed: list[SentReply] = []
    for reply in replies:
        if reply in taken:
            listed.append(reply)
            continue
        item = await tx.outbox.for_message(reply.message_id)
        if item and item.status is OutboxStatus.DELIVERED and item.handover is not None:
            listed.append(reply)
    return tuple(listed)
