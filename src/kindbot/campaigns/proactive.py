"""Proactive sends: a message for a topic to one contact, through the guard like every send.

A proactive send is not an answer to anything the contact wrote, so on top
of the conversation rules the guard checks consent to the topic, frequency
caps, quiet hours and the tenant's quota (DESIGN.md §5). Deferred sends are
stored and decided again when they come due — never sent blindly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kindbot.channels.registry import window_policy
from kindbot.core.errors import NotFoundError
from kindbot.core.events import (
    Decision,
    OutboundDecision,
    OutboundReply,
    ReplyOrigin,
    SendKind,
    Verdict,
)
from kindbot.core.ports.seams import Clock, SendCounters, Store, Transaction
from kindbot.core.records.conversations import ContactRecord
from kindbot.core.records.outbox import DeferredSend, DeferredStatus
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord
from kindbot.core.windows import WindowPolicy
from kindbot.guard.counting import proactive_facts, proactive_keys
from kindbot.guard.facts import BroadcastFacts
from kindbot.pipeline.admit.admission import Admission, tenant_policy_of
from kindbot.pipeline.admit.requests import GuardExtras, ProactiveTicket
from kindbot.pipeline.directory import ChannelDirectory
from kindbot.pipeline.receive.turn import AuditBatch, Turn

log = logging.getLogger(__name__)

DEFERRED_LEASE = timedelta(minutes=2)
DEFERRED_BATCH = 200
DEFERRED_POLL_S = 5.0
MAX_DEFERRALS = 50
"""A send deferred this many times is given up (denied) rather than kept forever."""


@dataclass(frozen=True, slots=True)
class ProactiveRequest:
    """One proactive message for ``topic`` to one contact (all ids are database ids)."""

    tenant_id: str
    contact_id: str
    topic: str
    text: str
    broadcast_id: str | None = None
    broadcast: BroadcastFacts | None = None


@dataclass(frozen=True, slots=True)
class ProactiveOutcome:
    """What happened to one proactive send.

    ``verdict`` is the guard's overall verdict; ``message_id`` is set when the
    message was admitted to the outbox, ``deferred_id`` when it waits for
    ``verdict.retry_at``.
    """

    contact_id: str
    verdict: Verdict
    message_id: str | None = None
    deferred_id: str | None = None

    @property
    def decision(self) -> Decision:
        """allow, deny or defer."""
        return self.verdict.decision


OnDecided = Callable[[Transaction, ProactiveOutcome, datetime], Awaitable[None]]
"""Records what was decided for a send (its outcome, the decision's time) in the send's
own transaction."""


@dataclass(frozen=True, slots=True)
class _Parties:
    tenant: TenantRecord
    channel: ChannelRecord
    contact: ContactRecord
    consent_wording: str | None
    window: WindowPolicy | None

    def turn(self, conversation_id: str) -> Turn:
        return Turn(self.tenant, self.channel, self.contact, conversation_id, self.window)


class ProactiveSender:
    """Sends proactive messages one contact at a time, each decided by the guard."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        directory: ChannelDirectory,
        admission: Admission,
        counters: SendCounters,
        outbox_ready: asyncio.Event,
    ) -> None:
        self._store = store
        self._clock = clock
        self._directory = directory
        self._admission = admission
        self._counters = counters
        self._outbox_ready = outbox_ready

    async def send(
        self,
        request: ProactiveRequest,
        *,
        deferred: DeferredSend | None = None,
        on_decided: OnDecided | None = None,
    ) -> ProactiveOutcome:
        """Decide ``request`` now; enqueue it, store it as deferred, or refuse it.

        ``deferred`` is the stored send being decided again (it is settled or
        postponed instead of a new one being stored; a campaign recipient
        waiting for it follows). ``on_decided`` runs inside the decision's
        transaction, so what it records commits or rolls back with the send;
        if it raises, nothing of the send is kept. Raises
        :class:`NotFoundError` for an unknown tenant or contact.
        """
        parties = await self._parties(request)
        extras = await self._proactive_extras(request, parties)
        try:
            outcome = await self._decide_and_record(request, parties, extras, deferred, on_decided)
        except BaseException:
            await self._admission.release(extras)
            raise
        if outcome.message_id is not None:
            self._outbox_ready.set()
        return outcome

    async def explain(self, request: ProactiveRequest, *, kind: SendKind) -> OutboundDecision:
        """Every rule's view of sending ``request`` now (as a reply or proactively); writes nothing.

        A reply is explained as if it answered the contact's latest message.
        """
        parties = await self._parties(request)
        extras = GuardExtras()
        if kind is SendKind.PROACTIVE:
            extras = await self._proactive_extras(request, parties)
        async with self._store.transaction(readonly=True) as tx:
            conversation = await tx.conversations.find_open(parties.channel.id, parties.contact.id)
            turn = parties.turn(conversation.id if conversation is not None else "")
            reply = OutboundReply(request.text, ReplyOrigin.SYSTEM)
            return await self._admission.explain(tx, turn, reply, kind=kind, extras=extras)

    async def _proactive_extras(self, request: ProactiveRequest, parties: _Parties) -> GuardExtras:
        """Consent and counter facts of a proactive send now (one counter read)."""
        keys = proactive_keys(
            tenant_id=parties.tenant.id,
            contact_id=parties.contact.id,
            channel_id=parties.channel.id,
            timezone=tenant_policy_of(parties.tenant).timezone,
            now=self._clock.now(),
        )
        counts = await self._counters.peek(keys.all())
        facts = proactive_facts(request.topic, parties.consent_wording, counts)
        return GuardExtras(proactive=ProactiveTicket(facts, keys), broadcast=request.broadcast)

    async def _parties(self, request: ProactiveRequest) -> _Parties:
        async with self._store.transaction(readonly=True) as tx:
            tenant = await tx.tenants.get(request.tenant_id)
            contact = await tx.contacts.get(request.contact_id)
            if tenant is None or contact is None or contact.tenant_id != tenant.id:
                raise NotFoundError("no such contact for this tenant", code="unknown_contact")
            consent = await tx.consents.active_for(contact.id, contact.channel_id, request.topic)
        resolved = await self._directory.by_id(contact.channel_id)
        window = window_policy(resolved.channel.kind, contact.external_id, resolved.config)
        wording = consent.wording if consent is not None else None
        return _Parties(tenant, resolved.channel, contact, wording, window)

    async def _decide_and_record(
        self,
        request: ProactiveRequest,
        parties: _Parties,
        extras: GuardExtras,
        deferred: DeferredSend | None,
        on_decided: OnDecided | None,
    ) -> ProactiveOutcome:
        async with self._store.transaction() as tx:
            now = self._clock.now()
            conversation = await tx.conversations.get_or_open(
                tenant_id=parties.tenant.id,
                channel_id=parties.channel.id,
                contact_id=parties.contact.id,
                now=now,
            )
            turn = parties.turn(conversation.id)
            audit = AuditBatch(parties.tenant.id)
            guarded = await self._admission.enqueue_guarded(
                tx,
                turn,
                audit,
                (OutboundReply(request.text, ReplyOrigin.SYSTEM),),
                reply_to_id=None,
                sync_grace=None,
                kind=SendKind.PROACTIVE,
                extras=extras,
            )
            if guarded.sent:
                sent = guarded.sent[0]
                if deferred is not None:
                    await tx.deferred.settle(deferred.id, DeferredStatus.SENT)
                outcome = ProactiveOutcome(
                    parties.contact.id, _allowed_verdict(), message_id=sent.message_id
                )
            else:
                verdict = guarded.stopped[0].verdict
                outcome = await _hold_or_refuse(tx, request, parties, verdict, deferred, now)
            if deferred is not None and outcome.deferred_id is None:  # settled: sent or refused
                await tx.campaigns.follow_deferred(
                    deferred.id,
                    message_id=outcome.message_id,
                    reason=None if outcome.message_id is not None else outcome.verdict.reason_en,
                    at=now,
                )
            if on_decided is not None:
                await on_decided(tx, outcome, now)
            await audit.flush(tx)
        return outcome


def _allowed_verdict() -> Verdict:
    return Verdict(Decision.ALLOW, "guard", "已通过所有规则。", "Every rule allows it.")


async def _hold_or_refuse(
    tx: Transaction,
    request: ProactiveRequest,
    parties: _Parties,
    verdict: Verdict,
    deferred: DeferredSend | None,
    now: datetime,
) -> ProactiveOutcome:
    """Store (or postpone) a deferred send; settle a stored one that is now refused."""
    contact_id = parties.contact.id
    if verdict.decision is Decision.DEFER and verdict.retry_at is not None:
        if deferred is None:
            held = await tx.deferred.add(
                tenant_id=parties.tenant.id,
                channel_id=parties.channel.id,
                contact_id=contact_id,
                topic=request.topic,
                text=request.text,
                broadcast_id=request.broadcast_id,
                due_at=verdict.retry_at,
                now=now,
            )
            return ProactiveOutcome(contact_id, verdict, deferred_id=held.id)
        if deferred.attempts + 1 < MAX_DEFERRALS:
            await tx.deferred.postpone(deferred.id, verdict.retry_at)
            return ProactiveOutcome(contact_id, verdict, deferred_id=deferred.id)
    if deferred is not None:
        await tx.deferred.settle(deferred.id, DeferredStatus.DENIED)
    return ProactiveOutcome(contact_id, verdict)


async def run_due_deferred(store: Store, clock: Clock, sender: ProactiveSender) -> int:
    """Decide every due deferred send once more; returns how many were decided."""
    now = clock.now()
    async with store.transaction() as tx:
        due = await tx.deferred.claim_due(now, now + DEFERRED_LEASE, DEFERRED_BATCH)
    for item in due:
        request = ProactiveRequest(
            tenant_id=item.tenant_id,
            contact_id=item.contact_id,
            topic=item.topic,
            text=item.text,
            broadcast_id=item.broadcast_id,
        )
        try:
            await sender.send(request, deferred=item)
        except NotFoundError:  # the contact was erased meanwhile
            async with store.transaction() as tx:
                await tx.deferred.settle(item.id, DeferredStatus.DENIED)
    return len(due)


async def deferred_loop(store: Store, clock: Clock, sender: ProactiveSender) -> None:
    """Run :func:`run_due_deferred` until cancelled, polling while nothing is due."""
    while True:
        try:
            decided = await run_due_deferred(store, clock, sender)
        except Exception:  # a failing batch must not stop the loop; it is retried
            log.exception("deciding deferred sends failed")
            decided = 0
        if decided < DEFERRED_BATCH:
            await asyncio.sleep(DEFERRED_POLL_S)
