"""What an inbound decision and the handoff state do to a conversation, and which replies stay.

:func:`act_on_inbound` runs in the pipeline's outcome transaction, after the
guard's :func:`kindbot.guard.rules.decide_inbound` and the dialogue: opt-out
and opt-in words change consent (and end a flow), follow events the contact,
a bot loop or a request for a person hands the conversation to the inbox, and
while a person has the conversation or is awaited the dialogue's replies are
held back (:func:`kindbot.pipeline.receive.handoff_desk.holds`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from kindbot.core.events import InboundAction, InboundDecision, OutboundReply, ReplyOrigin
from kindbot.core.ports.seams import Transaction
from kindbot.core.records.conversations import (
    ConversationState,
    FinishedInbound,
    MessageRecord,
)
from kindbot.dialogue.handoff import nobody_available
from kindbot.dialogue.responder import DialogueOutcome
from kindbot.dialogue.service_hours import ServiceHours, next_opening
from kindbot.pipeline.live.bus import InboxNotes
from kindbot.pipeline.receive.handoff_desk import Hold, holds, request_person
from kindbot.pipeline.receive.turn import AuditBatch, Turn

OPT_IN_TOPIC = "general"

ANSWERS_WHILE_WAITING = frozenset(
    {ReplyOrigin.KNOWLEDGE, ReplyOrigin.HANDLER, ReplyOrigin.GENERATED}
)
"""What the bot still says while a person is awaited: answers, not fallbacks or offers of one."""


async def act_on_inbound(
    tx: Transaction,
    finished: FinishedInbound,
    inbound: InboundDecision,
    turn: Turn,
    dialogue: DialogueOutcome | None,
    handoff: tuple[AuditBatch, InboxNotes],
    now: datetime,
) -> tuple[tuple[OutboundReply, ...], Turn]:
    """Act on the guard's inbound decision; the replies to propose and the updated turn.

    ``dialogue`` is the dialogue's outcome, computed beforehand when the
    guard let the message through to dialogue (``CONTINUE``). While a person
    has the conversation (or is awaited) the dialogue's replies are dropped
    (:func:`kindbot.pipeline.receive.handoff_desk.holds`) — except, while a person
    is awaited and nobody has the conversation, its answers
    (:data:`ANSWERS_WHILE_WAITING`). A request for a person nobody is online
    to take is answered honestly (:func:`kindbot.dialogue.handoff.nobody_available`).
    ``handoff`` collects the handoff's audit entries and live inbox events.
    ``finished``: the message as marked processed, with the conversation's
    state and open satisfaction question read by the same statement.
    """
    message = finished.message
    if inbound.action is InboundAction.OPT_OUT:
        await tx.consents.withdraw_all(message.contact_id, now)
        await tx.contacts.set_opted_out(message.contact_id, now)
        await tx.flows.clear_state(message.conversation_id)  # stop ends a flow too
        return inbound.replies, turn
    if inbound.action is InboundAction.OPT_IN:
        await tx.contacts.set_opted_out(message.contact_id, None)
        await tx.consents.grant(
            tenant_id=turn.tenant.id,
            contact_id=message.contact_id,
            channel_id=message.channel_id,
            topic=OPT_IN_TOPIC,
            source=f"keyword:{message.text.strip()[:40]}",
            wording=inbound.replies[0].text if inbound.replies else "",
            now=now,
        )
        return inbound.replies, turn
    if inbound.action in (InboundAction.FOLLOW, InboundAction.UNFOLLOW):
        followed = inbound.action is InboundAction.FOLLOW
        await tx.contacts.set_followed(message.contact_id, followed, now)
        turn = replace(turn, contact=replace(turn.contact, followed=followed))
        if followed and turn.welcome:
            return (OutboundReply(turn.welcome, ReplyOrigin.SYSTEM),), turn
        return inbound.replies, turn
    audit, notes = handoff
    if inbound.action is InboundAction.LOOP:
        await request_person(tx, message.conversation_id, at=now, audit=audit, notes=notes)
        return (), turn
    if inbound.action is InboundAction.IGNORE or dialogue is None:
        return (), turn
    hold = await holds(tx, finished, notes)
    if hold is Hold.SILENT:
        return (), turn
    if dialogue.handoff and (hold is Hold.NONE or not dialogue.unanswered):
        state = await request_person(tx, message.conversation_id, at=now, audit=audit, notes=notes)
        if state is ConversationState.WAITING:  # nobody online: say so, and when
            return (nobody_available_reply(message, turn, now),), turn
        return dialogue.replies, turn
    if hold is Hold.ASSIST:
        return tuple(r for r in dialogue.replies if r.origin in ANSWERS_WHILE_WAITING), turn
    return dialogue.replies, turn


def nobody_available_reply(message: MessageRecord, turn: Turn, now: datetime) -> OutboundReply:
    """The honest reply to a request for a person nobody is online to take."""
    stored = turn.tenant.service_hours_json
    opening = next_opening(ServiceHours.from_json(stored), now) if stored else None
    text = nobody_available(
        message.text, prefer_chinese=turn.prefer_chinese, opening=opening, now=now
    )
    return OutboundReply(text, ReplyOrigin.SYSTEM)
