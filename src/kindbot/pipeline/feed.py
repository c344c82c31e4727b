"""The inbound pipeline: store → guard (inbound) → dialogue → guard (outbound) → outbox.

:meth:`Pipeline.feed` is the only way inbound traffic becomes replies, and
:meth:`Pipeline.process` is the only place replies enter the outbox — each
one after :func:`kindbot.guard.rules.decide_outbound` allowed it and an audit
entry recorded the verdict.

Crash safety: the inbound message is committed (status ``received``) before
any reply is computed; the outcome — audit entries, outbound messages, outbox
rows and the ``processed`` status — commits in one transaction. A crash in
between leaves a ``received`` message, which a retry of the same message or
the recovery loop processes again; nothing is half-applied.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from datetime import timedelta

from kindbot.dialogue.responder import DialogueOutcome, respond
from kindbot.dialogue.retrieval import DEFAULT_THRESHOLD, KnowledgeIndex
from kindbot.events import (
    FeedResult,
    InboundAction,
    InboundDecision,
    InboundEvent,
    InboundKind,
    OutboundAction,
    OutboundReply,
    SendKind,
    SentReply,
    Verdict,
)
from kindbot.guard.audit import AuditDraft, seal
from kindbot.guard.rules import OutboundFacts, decide_inbound, decide_outbound
from kindbot.pipeline.directory import ChannelDirectory
from kindbot.pipeline.knowledge import KnowledgeCache
from kindbot.records import (
    ConversationState,
    InboundStatus,
    MessageRecord,
    TenantRecord,
)
from kindbot.types import Clock, Store, Transaction

OPT_IN_TOPIC = "general"


class Pipeline:
    """Feeds inbound events through the guard and dialogue into the outbox."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        directory: ChannelDirectory,
        knowledge: KnowledgeCache,
        outbox_ready: asyncio.Event,
    ) -> None:
        self._store = store
        self._clock = clock
        self._directory = directory
        self._knowledge = knowledge
        self._outbox_ready = outbox_ready
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def feed(self, event: InboundEvent, *, sync_grace: timedelta | None) -> FeedResult:
        """Store ``event`` once and produce its replies.

        ``sync_grace`` set: the caller hands the replies over itself (an HTTP
        response, a socket, a terminal) and then calls :meth:`mark_delivered`;
        the outbox worker delivers them only if that has not happened within
        the grace period. ``None``: the outbox worker delivers at once.
        A duplicate event returns the first outcome and is not processed again.
        """
        resolved = await self._directory.by_public_id(event.channel_public_id)
        channel, tenant = resolved.channel, resolved.tenant
        async with self._store.transaction() as tx:
            contact = await tx.contacts.get_or_create(
                tenant_id=tenant.id,
                channel_id=channel.id,
                external_id=event.sender,
                display_name=event.sender_name,
                now=event.received_at,
            )
            conversation = await tx.conversations.get_or_open(
                tenant_id=tenant.id,
                channel_id=channel.id,
                contact_id=contact.id,
                now=event.received_at,
            )
            message, created = await tx.messages.insert_inbound(
                event=event,
                tenant_id=tenant.id,
                channel_id=channel.id,
                contact_id=contact.id,
                conversation_id=conversation.id,
            )
            if created:
                await tx.conversations.touch_inbound(conversation.id, event.received_at)
        if not created and message.status == InboundStatus.PROCESSED:
            return await self.outcome(message.id, duplicate=True)
        return await self.process(message.id, sync_grace=sync_grace, duplicate=not created)

    async def process(
        self, message_id: str, *, sync_grace: timedelta | None, duplicate: bool = False
    ) -> FeedResult:
        """Run guard and dialogue for a stored inbound message (idempotent)."""
        async with self._store.transaction() as tx:
            stored = await tx.messages.lock_inbound(message_id)
        lock = self._locks.setdefault(stored.conversation_id, asyncio.Lock())
        async with lock:
            tenant = await self._tenant(stored.tenant_id)
            index = await self._knowledge.index_for(tenant.id)
            async with self._store.transaction() as tx:
                message = await tx.messages.lock_inbound(message_id)
                if message.status == InboundStatus.PROCESSED:
                    return await self._outcome(tx, message, duplicate=True)
                inbound = decide_inbound(
                    InboundKind(message.kind),
                    message.text,
                    prefer_chinese=_zh(tenant),
                    event=message.event,
                )
                await self._audit(tx, tenant, f"message:{message.id}", "inbound", inbound.verdict)
                replies = await self._apply_inbound(tx, message, inbound, tenant, index)
                await self._enqueue_replies(tx, message, tenant, replies, sync_grace)
                await tx.messages.mark_processed(message.id)
                result = await self._outcome(tx, message, duplicate=duplicate)
        if result.replies and sync_grace is None:
            self._outbox_ready.set()
        return result

    async def _apply_inbound(
        self,
        tx: Transaction,
        message: MessageRecord,
        inbound: InboundDecision,
        tenant: TenantRecord,
        index: KnowledgeIndex,
    ) -> tuple[OutboundReply, ...]:
        now = self._clock.now()
        if inbound.action is InboundAction.OPT_OUT:
            await tx.consents.withdraw_all(message.contact_id, now)
            return inbound.replies
        if inbound.action is InboundAction.OPT_IN:
            await tx.consents.grant(
                tenant_id=tenant.id,
                contact_id=message.contact_id,
                channel_id=message.channel_id,
                topic=OPT_IN_TOPIC,
                source=f"keyword:{message.text.strip()[:40]}",
                wording=inbound.replies[0].text if inbound.replies else "",
                now=now,
            )
            return inbound.replies
        if inbound.action in (InboundAction.FOLLOW, InboundAction.UNFOLLOW):
            followed = inbound.action is InboundAction.FOLLOW
            await tx.contacts.set_followed(message.contact_id, followed, now)
            return inbound.replies
        if inbound.action is InboundAction.IGNORE:
            return ()
        outcome = self._dialogue(message, tenant, index)
        if outcome.handoff:
            await tx.conversations.set_state(message.conversation_id, ConversationState.WAITING)
        return outcome.replies

    def _dialogue(
        self, message: MessageRecord, tenant: TenantRecord, index: KnowledgeIndex
    ) -> DialogueOutcome:
        threshold = tenant.kb_threshold if tenant.kb_threshold is not None else DEFAULT_THRESHOLD
        return respond(
            InboundKind(message.kind),
            message.text,
            index,
            threshold=threshold,
            prefer_chinese=_zh(tenant),
        )

    async def _enqueue_replies(
        self,
        tx: Transaction,
        message: MessageRecord,
        tenant: TenantRecord,
        replies: tuple[OutboundReply, ...],
        sync_grace: timedelta | None,
    ) -> None:
        contact = await tx.contacts.get(message.contact_id)
        channel = await tx.channels.get(message.channel_id)
        assert contact is not None
        assert channel is not None
        for proposed in replies:
            now = self._clock.now()
            facts = OutboundFacts(
                tenant_status=tenant.status,
                contact_is_test=contact.is_test,
                bot_messages_in_conversation=await tx.messages.count_outbound(
                    message.conversation_id
                ),
                prefer_chinese=_zh(tenant),
                contact_followed=contact.followed,
            )
            action = OutboundAction(
                tenant_id=tenant.id,
                channel_id=channel.id,
                channel_kind=channel.kind,
                contact_id=contact.id,
                conversation_id=message.conversation_id,
                kind=SendKind.REPLY,
                reply=proposed,
            )
            decision = decide_outbound(action, facts, now)
            subject = f"reply-to:{message.id}"
            await self._audit(tx, tenant, subject, "outbound", decision.verdict, decision.checks)
            if not decision.verdict.allowed:
                continue
            outbound = await tx.messages.insert_outbound(
                tenant_id=tenant.id,
                channel_id=channel.id,
                contact_id=contact.id,
                conversation_id=message.conversation_id,
                text=decision.reply.text,
                reply_to_id=message.id,
                generated=False,
                now=now,
            )
            await tx.outbox.enqueue(
                tenant_id=tenant.id,
                channel_id=channel.id,
                contact_id=contact.id,
                message_id=outbound.id,
                text=outbound.text,
                not_before=now + sync_grace if sync_grace is not None else now,
                now=now,
            )

    async def _audit(
        self,
        tx: Transaction,
        tenant: TenantRecord,
        subject: str,
        kind: str,
        verdict: Verdict,
        checks: tuple[Verdict, ...] = (),
    ) -> None:
        detail = json.dumps(
            {
                "reason_en": verdict.reason_en,
                "reason_zh": verdict.reason_zh,
                "checks": [[c.rule, c.decision.value] for c in checks],
            },
            ensure_ascii=False,
        )
        draft = AuditDraft(
            tenant_id=tenant.id,
            at=self._clock.now(),
            kind=kind,
            subject=subject,
            rule=verdict.rule,
            decision=verdict.decision.value,
            detail=detail,
        )
        head = await tx.audit.lock_head(tenant.id)
        await tx.audit.append(seal(draft, head))

    async def _tenant(self, tenant_id: str) -> TenantRecord:
        async with self._store.transaction() as tx:
            tenant = await tx.tenants.get(tenant_id)
        assert tenant is not None
        return tenant

    async def outcome_by_key(
        self, channel_public_id: str, idempotency_key: str
    ) -> FeedResult | None:
        """The stored outcome of the message with this key, or None if it never arrived."""
        resolved = await self._directory.by_public_id(channel_public_id)
        async with self._store.transaction() as tx:
            message = await tx.messages.find_inbound(resolved.channel.id, idempotency_key)
        if message is None:
            return None
        return await self.outcome(message.id, duplicate=True)

    async def outcome(self, message_id: str, *, duplicate: bool) -> FeedResult:
        """The stored outcome of an inbound message (its replies so far)."""
        async with self._store.transaction() as tx:
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
        now = self._clock.now()
        taken: list[SentReply] = []
        async with self._store.transaction() as tx:
            for reply in result.replies:
                if len(taken) < limit and await tx.outbox.deliver_if_pending(reply.outbox_id, now):
                    taken.append(reply)
                else:
                    await tx.outbox.release(reply.outbox_id, now)
        if len(taken) < len(result.replies):
            self._outbox_ready.set()
        return tuple(taken)

    async def release(self, result: FeedResult) -> None:
        """Hand every still-held reply of ``result`` to the outbox worker now."""
        now = self._clock.now()
        async with self._store.transaction() as tx:
            for reply in result.replies:
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


def _zh(tenant: TenantRecord) -> bool:
    return tenant.language.startswith("zh")
