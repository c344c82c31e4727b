"""Human handoff inside a transaction: hold the bot, hand over, assign, take the rating.

The decisions are the pure functions of :mod:`kindbot.dialogue.handoff`; this
module applies them through the caller's :class:`~kindbot.core.ports.seams.Transaction`,
queues audit entries (kind ``handoff``) on its :class:`AuditBatch` and live
events on its :class:`InboxNotes` (published by the caller after commit).
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum

from kindbot.core.errors import NotFoundError
from kindbot.core.ports.seams import Transaction
from kindbot.core.records.conversations import (
    ConversationRecord,
    ConversationState,
    FinishedInbound,
)
from kindbot.core.records.handoff import AgentRecord
from kindbot.dialogue.handoff import (
    HandoffAction,
    InvalidTransitionError,
    bot_answers,
    bot_assists,
    parse_rating,
    pick_agent,
    transition,
)
from kindbot.guard.audit import AuditDraft
from kindbot.pipeline.live.bus import InboxEvent, InboxNotes
from kindbot.pipeline.receive.turn import AuditBatch

AUDIT_KIND = "handoff"
ROUND_ROBIN = "round-robin"


def audit_move(
    audit: AuditBatch,
    *,
    at: datetime,
    conversation_id: str,
    action: HandoffAction,
    actor: str,
    agent: AgentRecord | None,
    before: ConversationState,
    after: ConversationState,
) -> None:
    """Queue the ``handoff`` audit entry of one state move (who did it, for which agent)."""
    detail = {
        "actor": actor,
        "agent_id": agent.id if agent is not None else None,
        "agent": agent.name if agent is not None else None,
        "from": before.value,
        "to": after.value,
    }
    audit.drafts.append(
        AuditDraft(
            tenant_id=audit.tenant_id,
            at=at,
            kind=AUDIT_KIND,
            subject=f"conversation:{conversation_id}",
            rule=AUDIT_KIND,
            decision=action.value,
            detail=json.dumps(detail, ensure_ascii=False),
        )
    )


async def conversation_of(
    tx: Transaction, tenant_id: str, conversation_id: str
) -> ConversationRecord:
    """The tenant's conversation, or 404 ``unknown_conversation``."""
    conversation = await tx.conversations.get(conversation_id)
    if conversation is None or conversation.tenant_id != tenant_id:
        raise NotFoundError("no such conversation for this tenant", code="unknown_conversation")
    return conversation


async def assign(
    tx: Transaction,
    conversation: ConversationRecord,
    agent: AgentRecord,
    *,
    action: HandoffAction,
    actor: str,
    at: datetime,
    audit: AuditBatch,
    notes: InboxNotes,
    holder: str | None = None,
) -> ConversationState:
    """Give ``conversation``, held by agent ``holder`` (None: nobody), to ``agent``.

    Claim or transfer; returns the state after it. 409 ``invalid_transition``
    when another agent took the conversation meanwhile.
    """
    after = transition(conversation.state, action)
    await tx.conversations.set_state(conversation.id, after)
    if not await tx.handoffs.assign(conversation.id, agent.id, at, expected=holder):
        raise InvalidTransitionError("another agent took this conversation meanwhile")
    await tx.agents.mark_assigned(agent.id, at)
    audit_move(
        audit,
        at=at,
        conversation_id=conversation.id,
        action=action,
        actor=actor,
        agent=agent,
        before=conversation.state,
        after=after,
    )
    notes.add(
        InboxEvent(conversation.tenant_id, "assigned", conversation.id, after.value, agent.id)
    )
    return after


async def request_person(
    tx: Transaction,
    conversation_id: str,
    *,
    at: datetime,
    audit: AuditBatch,
    notes: InboxNotes,
) -> ConversationState | None:
    """``bot → waiting``, then round-robin to an online agent if there is one.

    A conversation not in ``bot`` (already waiting or with a person) is left as
    it is. Returns the conversation's state afterwards: ``human`` when a person
    has it, ``waiting`` when nobody was online (None: no such conversation).
    """
    conversation = await tx.conversations.get(conversation_id)
    if conversation is None or conversation.state is not ConversationState.BOT:
        return None if conversation is None else conversation.state
    after = transition(conversation.state, HandoffAction.REQUEST)
    await tx.conversations.set_state(conversation.id, after)
    if await tx.handoffs.get(conversation.id) is None:
        await tx.handoffs.open(
            tenant_id=conversation.tenant_id,
            conversation_id=conversation.id,
            contact_id=conversation.contact_id,
            now=at,
        )
    audit_move(
        audit,
        at=at,
        conversation_id=conversation.id,
        action=HandoffAction.REQUEST,
        actor="bot",
        agent=None,
        before=conversation.state,
        after=after,
    )
    notes.add(InboxEvent(conversation.tenant_id, "waiting", conversation.id, after.value))
    agent = pick_agent(await tx.agents.list(conversation.tenant_id))
    if agent is not None:
        waiting = ConversationRecord(
            conversation.id,
            conversation.tenant_id,
            conversation.channel_id,
            conversation.contact_id,
            after,
            conversation.created_at,
            conversation.last_inbound_at,
        )
        return await assign(
            tx,
            waiting,
            agent,
            action=HandoffAction.CLAIM,
            actor=ROUND_ROBIN,
            at=at,
            audit=audit,
            notes=notes,
        )
    return after


ASSIGN_WHEN_ONLINE = 50
"""Most waiting conversations handed out when an agent comes online (oldest first)."""


async def assign_waiting(
    tx: Transaction, tenant_id: str, *, at: datetime, audit: AuditBatch, notes: InboxNotes
) -> int:
    """Hand the tenant's waiting, unassigned conversations (oldest request first, at
    most :data:`ASSIGN_WHEN_ONLINE`) round-robin to its online agents; how many.

    Called when an agent comes online: a customer who asked for a person while
    nobody was online is not left waiting until someone looks at the inbox.
    """
    queue = await tx.handoffs.inbox(tenant_id, states=(ConversationState.WAITING,), agent_id=None)
    handed = 0
    for item in [i for i in queue if i.agent_id is None][:ASSIGN_WHEN_ONLINE]:
        agent = pick_agent(await tx.agents.list(tenant_id))
        if agent is None:
            break
        conversation = await conversation_of(tx, tenant_id, item.conversation_id)
        await assign(
            tx,
            conversation,
            agent,
            action=HandoffAction.CLAIM,
            actor=ROUND_ROBIN,
            at=at,
            audit=audit,
            notes=notes,
        )
        handed += 1
    return handed


class Hold(StrEnum):
    """How much the bot says on a message (:func:`holds`)."""

    NONE = "none"
    """The bot has the conversation: it answers as usual."""
    ASSIST = "assist"
    """A person is awaited and nobody has it yet: the bot answers knowledge questions only."""
    SILENT = "silent"
    """A person has the conversation, or the message was a satisfaction rating."""


async def holds(tx: Transaction, finished: FinishedInbound, notes: InboxNotes) -> Hold:
    """How far the bot holds back on the message just marked processed.

    While a person has (``SILENT``) or is awaited for (``ASSIST``) the
    conversation, the message is announced to the inbox. The 1–5 answer to
    the satisfaction question is recorded as the rating (``SILENT``); any
    other first message after resolve closes the question and goes to dialogue.
    The conversation's state and the open question are those ``finished``
    read with the message (same transaction).
    """
    message, state = finished.message, finished.conversation_state
    if not bot_answers(state):
        notes.add(
            InboxEvent(
                message.tenant_id,
                "message",
                message.conversation_id,
                state.value,
                text=message.text,
            )
        )
        return Hold.ASSIST if bot_assists(state) else Hold.SILENT
    pending = finished.rating_conversation_id
    if pending is None:
        return Hold.NONE
    rating = parse_rating(message.text)
    await tx.handoffs.close_rating(pending, rating)
    if rating is None:
        return Hold.NONE
    resolved = ConversationState.RESOLVED.value
    notes.add(InboxEvent(message.tenant_id, "rated", pending, resolved, text=str(rating)))
    return Hold.SILENT
