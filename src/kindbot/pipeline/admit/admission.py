"""The only way into the outbox: every proposed message is decided by the guard and audited.

:meth:`Admission.enqueue_guarded` gathers the facts the rules need (the
conversation's activity, the tenant's policy, the moderation verdict and,
for proactive sends, consent and counters), runs
:func:`kindbot.guard.rules.decide_outbound`, and writes — in the caller's
transaction — the verdict to the audit chain and, when allowed, the
outbound message and its outbox row. Denials with a severity are weighed
into the tenant's violation score, which may warn, throttle or suspend it —
but only those :func:`kindbot.guard.attribution.charged_to_tenant` charges to
the tenant: what a customer's behaviour made the bot decline is audited and
not counted.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from kindbot.core.events import (
    InboundKind,
    OutboundAction,
    OutboundDecision,
    OutboundReply,
    ReplyOrigin,
    SendKind,
    SentReply,
    Severity,
    Verdict,
)
from kindbot.core.ports.seams import Clock, SendCounters, Transaction
from kindbot.core.records.conversations import ConversationActivity
from kindbot.core.records.tenancy import TenantRecord, TenantStatus
from kindbot.core.screening import (
    SCREENED_OK,
    ContentContext,
    Direction,
    Screener,
    ScreenerSource,
    ScreeningLevel,
    ScreeningVerdict,
)
from kindbot.guard import violations
from kindbot.guard.attribution import (
    CONTENT_RULE,
    ECHOING_ORIGINS,
    Initiator,
    charged_to_tenant,
    customer_spans,
    initiator,
    without_spans,
)
from kindbot.guard.counting import saturated
from kindbot.guard.facts import (
    OutboundFacts,
    WindowFacts,
)
from kindbot.guard.policy import GuardPolicy, stored_policy
from kindbot.guard.rules import decide_outbound
from kindbot.guard.violations import Standing
from kindbot.pipeline.admit.requests import NO_EXTRAS, GuardedSends, GuardExtras, Taking
from kindbot.pipeline.receive.turn import AuditBatch, Turn

RATE_WINDOW = timedelta(minutes=1)
"""The span of the guard's reply-burst count (bot messages sent within it)."""


def tenant_policy_of(tenant: TenantRecord) -> GuardPolicy:
    """The guard policy in force for ``tenant`` (its settings, cut when throttled)."""
    throttled = tenant.standing == Standing.THROTTLED.value
    return stored_policy(tenant.guard_json, tenant.timezone, throttled)


class Admission:
    """Decides, audits and enqueues outbound messages (one instance per container)."""

    def __init__(
        self, *, clock: Clock, counters: SendCounters, screeners: ScreenerSource | None
    ) -> None:
        self._clock = clock
        self._counters = counters
        self._screeners = screeners

    async def enqueue_guarded(
        self,
        tx: Transaction,
        turn: Turn,
        audit: AuditBatch,
        replies: tuple[OutboundReply, ...],
        *,
        reply_to_id: str | None,
        sync_grace: timedelta | None,
        kind: SendKind = SendKind.REPLY,
        extras: GuardExtras = NO_EXTRAS,
        customer_text: tuple[str, ...] = (),
        taking: Taking | None = None,
        activity: ConversationActivity | None = None,
    ) -> GuardedSends:
        """Decide each reply; admit the allowed ones as outbound messages and outbox rows.

        Allowed messages are due at once (``sync_grace`` None) or held for the
        caller's hand-over; with ``taking``, the first ones are stored as handed
        over to the caller and the rest are due at once. Every verdict is queued
        on ``audit``; a denial is weighed into the tenant's score only when it
        is charged to the tenant (:mod:`kindbot.guard.attribution`:
        ``reply_to_id`` set means the send answers a customer's message;
        ``customer_text`` is what that customer typed — their message, a flow's
        slot values — which a reply may echo). A proactive
        send reserves its counters in ``tx`` where the backend allows; with
        Redis the reservation is made at once and the caller must release it
        (:meth:`release`) if ``tx`` fails. ``activity``: the conversation's
        counts, when the caller read them in ``tx`` already (answering
        ``reply_to_id``, bot messages within :data:`RATE_WINDOW`; None: read here).
        """
        result = GuardedSends()
        if not replies:
            return result
        if activity is None:
            activity = await tx.messages.activity(
                turn.conversation_id,
                reply_to_id=reply_to_id,
                since=self._clock.now() - RATE_WINDOW,
            )
        screener = await self._screeners.current() if self._screeners is not None else None
        policy = tenant_policy_of(turn.tenant)
        for proposed in replies:
            now = self._clock.now()
            facts = self._facts(turn, activity, len(result.sent), policy, extras)
            facts = replace(facts, content=_screen(screener, proposed, turn, kind, extras))
            action = _action(turn, kind, proposed)
            decision = decide_outbound(action, facts, now)
            ticket = extras.proactive
            if decision.verdict.allowed and ticket is not None:
                refused = await self._counters.reserve_within(tx, ticket.keys.limits(policy, now))
                if refused is not None:  # lost a race for the last unit: decide again
                    lost = saturated(ticket.facts, ticket.keys, refused, policy)
                    decision = decide_outbound(action, replace(facts, proactive=lost), now)
            if not decision.verdict.allowed:
                subject = f"reply-to:{reply_to_id}" if reply_to_id else f"contact:{turn.contact.id}"
                audit.add(
                    at=now,
                    kind="outbound",
                    subject=subject,
                    verdict=decision.verdict,
                    checks=decision.checks,
                    generated_from=_grounding(proposed),
                )
                who = initiator(kind, proposed.origin, answers_inbound=reply_to_id is not None)
                echo_only = _echo_only(
                    screener,
                    _context(turn, kind, extras),
                    (decision.verdict, proposed, who, facts.content),
                    customer_text,
                )
                if charged_to_tenant(decision.verdict.rule, who, echo_only=echo_only):
                    await self._weigh(tx, turn.tenant, audit, decision.verdict, subject)
                result.stopped.append(decision)
                continue
            outbound = await tx.messages.insert_outbound(
                tenant_id=turn.tenant.id,
                channel_id=turn.channel.id,
                contact_id=turn.contact.id,
                conversation_id=turn.conversation_id,
                text=decision.reply.text,
                reply_to_id=reply_to_id,
                generated=proposed.origin is ReplyOrigin.GENERATED,
                now=now,
                source_entry_ids=proposed.source_entry_ids,
                origin=proposed.origin.value,
            )
            # The allow verdict names the message it let through, in the same
            # transaction as the outbox row: no row can exist without it.
            audit.add(
                at=now,
                kind="outbound",
                subject=f"message:{outbound.id}",
                verdict=decision.verdict,
                checks=decision.checks,
                generated_from=_grounding(proposed),
            )
            taken = taking is not None and len(result.taken) < taking.limit
            item = await tx.outbox.enqueue(
                tenant_id=turn.tenant.id,
                channel_id=turn.channel.id,
                contact_id=turn.contact.id,
                message_id=outbound.id,
                text=outbound.text,
                not_before=_not_before(now, sync_grace, taking, taken),
                now=now,
                handover=taking.lease if taking is not None and taken else None,
            )
            sent = SentReply(item.id, outbound.id, outbound.text, outbound.created_at)
            result.sent.append(sent)
            if taken:
                result.taken.append(sent)
        return result

    async def release(self, extras: GuardExtras) -> None:
        """Give back a proactive reservation whose transaction failed.

        Only counters outside the database need it: database counters rolled
        back with the transaction.
        """
        if extras.proactive is not None and not self._counters.joins_transactions:
            await self._counters.release(extras.proactive.keys.all())

    async def explain(
        self,
        tx: Transaction,
        turn: Turn,
        reply: OutboundReply,
        *,
        kind: SendKind,
        extras: GuardExtras = NO_EXTRAS,
    ) -> OutboundDecision:
        """What the guard would decide about ``reply`` now; writes nothing."""
        activity = await tx.messages.activity(
            turn.conversation_id, reply_to_id=None, since=self._clock.now() - RATE_WINDOW
        )
        screener = await self._screeners.current() if self._screeners is not None else None
        facts = self._facts(turn, activity, 0, tenant_policy_of(turn.tenant), extras)
        facts = replace(facts, content=_screen(screener, reply, turn, kind, extras))
        return decide_outbound(_action(turn, kind, reply), facts, self._clock.now())

    async def screener(self) -> Screener | None:
        """The moderation screener in force (None: none configured)."""
        return await self._screeners.current() if self._screeners is not None else None

    def _facts(
        self,
        turn: Turn,
        activity: ConversationActivity,
        done: int,
        policy: GuardPolicy,
        extras: GuardExtras,
    ) -> OutboundFacts:
        window_rules = turn.window
        window = None
        if window_rules is not None:
            window = WindowFacts(
                policy=window_rules,
                last_inbound_at=activity.last_inbound_at,
                last_inbound_was_event=activity.last_inbound_kind == InboundKind.EVENT.value,
                sent_since_inbound=activity.outbound_since_inbound + done,
            )
        return OutboundFacts(
            tenant_status=turn.tenant.status,
            contact_is_test=turn.contact.is_test,
            bot_messages_in_conversation=activity.outbound_total + done,
            prefer_chinese=turn.prefer_chinese,
            contact_followed=turn.contact.followed,
            window=window,
            replies_to_inbound=activity.replies_to + done,
            sent_last_minute=activity.outbound_since + done,
            policy=policy,
            proactive=extras.proactive.facts if extras.proactive is not None else None,
            group=extras.group,
            broadcast=extras.broadcast,
        )

    async def _weigh(
        self,
        tx: Transaction,
        tenant: TenantRecord,
        audit: AuditBatch,
        verdict: Verdict,
        subject: str,
    ) -> None:
        """Record a denial with a severity; escalate the tenant's standing when earned."""
        if verdict.severity is Severity.NONE:
            return
        now = self._clock.now()
        await tx.violations.record(
            tenant_id=tenant.id,
            at=now,
            rule=verdict.rule,
            severity=verdict.severity.value,
            weight=violations.weight(verdict.severity),
            subject=subject,
        )
        score = await tx.violations.score(tenant.id, now - violations.SCORE_WINDOW)
        current = (
            Standing.SUSPENDED
            if tenant.status is TenantStatus.SUSPENDED
            else Standing(tenant.standing)
        )
        earned = violations.escalation(current, score)
        if earned is None:
            return
        if earned is Standing.SUSPENDED:
            await tx.tenants.set_status(tenant.id, TenantStatus.SUSPENDED)
        else:
            await tx.tenants.set_standing(tenant.id, earned.value)
        audit.add(
            at=now,
            kind="standing",
            subject=f"tenant:{tenant.id}",
            verdict=violations.standing_verdict(earned, score),
        )


def _not_before(
    now: datetime, sync_grace: timedelta | None, taking: Taking | None, taken: bool
) -> datetime:
    """When the outbox worker may send an admitted reply: at once, or after the caller's
    grace; a reply the caller takes keeps the grace, one it leaves is released now."""
    if sync_grace is None or (taking is not None and not taken):
        return now
    return now + sync_grace


def _echo_only(
    screener: Screener | None,
    context: ContentContext,
    denied: tuple[Verdict, OutboundReply, Initiator, ScreeningVerdict],
    customer_text: tuple[str, ...],
) -> bool:
    """Whether moderation blocked a customer-initiated ``reply`` only for what the customer typed.

    Screens the reply again with the customer's text blanked out: when the
    rest — the tenant's template, the handler's or model's own words — passes,
    the offending text was the customer's own, echoed back.
    """
    verdict, reply, who, content = denied
    if (
        screener is None
        or verdict.rule != CONTENT_RULE
        or who is not Initiator.CUSTOMER
        or reply.origin not in ECHOING_ORIGINS
    ):
        return False
    spans = customer_spans(reply.text, customer_text, content.matches)
    if not spans:
        return False
    rest = screener.screen(without_spans(reply.text, spans), context)
    return rest.level is not ScreeningLevel.BLOCK


def _grounding(reply: OutboundReply) -> tuple[str, ...] | None:
    """The entries a generated reply was grounded on (for its audit entry); None otherwise."""
    return reply.source_entry_ids if reply.origin is ReplyOrigin.GENERATED else None


def _action(turn: Turn, kind: SendKind, reply: OutboundReply) -> OutboundAction:
    return OutboundAction(
        tenant_id=turn.tenant.id,
        channel_id=turn.channel.id,
        channel_kind=turn.channel.kind,
        contact_id=turn.contact.id,
        conversation_id=turn.conversation_id,
        kind=kind,
        reply=reply,
    )


def _screen(
    screener: Screener | None,
    reply: OutboundReply,
    turn: Turn,
    kind: SendKind,
    extras: GuardExtras,
) -> ScreeningVerdict:
    if screener is None:
        return SCREENED_OK
    return screener.screen(reply.text, _context(turn, kind, extras))


def _context(turn: Turn, kind: SendKind, extras: GuardExtras) -> ContentContext:
    return ContentContext(
        direction=Direction.OUTBOUND,
        proactive=kind is SendKind.PROACTIVE,
        group=extras.group is not None,
        tenant_id=turn.tenant.id,
    )
