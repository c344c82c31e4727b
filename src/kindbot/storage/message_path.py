"""The message path's reads, folded into the writes it runs anyway (issue 15).

An inbound message costs two statements that must run — the conversation's
``UPDATE … RETURNING`` when it is stored, the message's ``UPDATE … RETURNING``
when its outcome commits — and everything else the path reads rides on them
as scalar subqueries of their ``RETURNING``: the contact (found by its
address in the conversation's ``WHERE``), the tenant's revision, the bot's
recent texts and the flow state when the message is stored; the
conversation's state, an open satisfaction question and the guard's counts
when the outcome commits. Both backends run subqueries in ``RETURNING``
(SQLite since 3.35) against the data as of the statement's start, which for
the tables read here is the data as of the row's change: the statements
change only the row they return, never a row they read.

Statements are built once (per count of recent texts) and their values bound
at execution, so SQLAlchemy's compiled cache serves every call.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Select,
    String,
    Update,
    bindparam,
    case,
    exists,
    func,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from kindbot.core.records.conversations import (
    ContactRecord,
    ContactSource,
    ConversationActivity,
    ConversationRecord,
    ConversationState,
    Direction,
    InboundOpening,
    InboundStatus,
)
from kindbot.core.records.flows import FlowState
from kindbot.storage.revisions import CURRENT_REVISION
from kindbot.storage.schema import contacts, conversations, flow_states, handoffs, messages

OPEN = "open"

_CONTACT_ID = (
    select(contacts.c.id)
    .where(
        contacts.c.channel_id == bindparam("b_channel_id"),
        contacts.c.external_id == bindparam("b_external_id"),
    )
    .scalar_subquery()
)
"""The sender's contact id, by its address (channel, external id)."""

_CONTACT_COLUMNS = ("display_name", "is_test", "created_at", "followed", "opted_out_at", "source")
_FLOW_COLUMNS = ("flow", "state", "slots_json", "retries", "language", "updated_at")
_OUTBOUND = messages.c.direction == Direction.OUTBOUND.value


_UPDATED_ID = literal_column("conversations.id", String)
_UPDATED_CONTACT_ID = literal_column("conversations.contact_id", String)
"""The updated conversation's columns, named in full inside the ``RETURNING``'s
subqueries: SQLAlchemy's SQLite compiler drops table names in ``RETURNING``, and an
unqualified ``id`` in a subquery over ``messages`` would be the message's."""


def _of_contact(name: str) -> ColumnElement[Any]:
    subquery = select(contacts.c[name]).where(contacts.c.id == _UPDATED_CONTACT_ID)
    return subquery.scalar_subquery().label(f"contact_{name}")


def _of_flow(name: str) -> ColumnElement[Any]:
    subquery = select(flow_states.c[name]).where(flow_states.c.conversation_id == _UPDATED_ID)
    return subquery.scalar_subquery().label(f"flow_{name}")


def _recent_text(offset: int) -> ColumnElement[Any]:
    subquery = (
        select(messages.c.text)
        .where(messages.c.conversation_id == _UPDATED_ID, _OUTBOUND)
        .order_by(messages.c.seq.desc())
        .limit(1)
        .offset(offset)
    )
    return subquery.scalar_subquery().label(f"recent_{offset}")


@functools.cache
def open_for_sender_statement(recent: int) -> Update:
    """The sender's open conversation, its last inbound time moved to ``at`` unless
    the message (its idempotency key) is already stored, returning with it the
    contact, the tenant's revision, the bot's last ``recent`` texts and the flow state.

    Binds ``b_channel_id``, ``b_external_id``, ``key_digest``, ``at`` and
    ``revision_tenant_id``. No row: the contact or its open conversation is missing.
    """
    return (
        update(conversations)
        .where(
            conversations.c.channel_id == bindparam("b_channel_id"),
            conversations.c.contact_id == _CONTACT_ID,
            conversations.c.open_slot == OPEN,
        )
        .values(
            last_inbound_at=case(
                (
                    exists().where(
                        messages.c.channel_id == bindparam("b_channel_id"),
                        messages.c.idempotency_key == bindparam("key_digest"),
                    ),
                    conversations.c.last_inbound_at,
                ),
                else_=bindparam("at", type_=conversations.c.last_inbound_at.type),
            )
        )
        .returning(
            *conversations.c,
            CURRENT_REVISION.label("tenant_revision"),
            *(_of_contact(name) for name in _CONTACT_COLUMNS),
            *(_of_flow(name) for name in _FLOW_COLUMNS),
            *(_recent_text(offset) for offset in range(recent)),
        )
    )


@functools.cache
def open_conversation_statement(dialect: str) -> Executable:
    """Open a conversation for the contact at an address unless one is open
    (``INSERT … SELECT … ON CONFLICT DO NOTHING``: no contact id needed).

    Binds ``b_channel_id``, ``b_external_id``, ``conversation_id``, ``tenant_id``, ``at``.
    """
    source: Select[Any] = select(
        bindparam("conversation_id", type_=conversations.c.id.type),
        bindparam("tenant_id", type_=conversations.c.tenant_id.type),
        contacts.c.channel_id,
        contacts.c.id,
        literal(ConversationState.BOT.value, conversations.c.state.type),
        literal(OPEN, conversations.c.open_slot.type),
        bindparam("at", type_=conversations.c.created_at.type),
    ).where(
        contacts.c.channel_id == bindparam("b_channel_id"),
        contacts.c.external_id == bindparam("b_external_id"),
    )
    names = ["id", "tenant_id", "channel_id", "contact_id", "state", "open_slot", "created_at"]
    index = ["channel_id", "contact_id", "open_slot"]
    if dialect == "postgresql":
        return (
            postgresql.insert(conversations)
            .from_select(names, source)
            .on_conflict_do_nothing(index_elements=index)
        )
    return (
        sqlite.insert(conversations)
        .from_select(names, source)
        .on_conflict_do_nothing(index_elements=index)
    )


def opening_of(row: Any, *, channel_id: str, external_id: str, recent: int) -> InboundOpening:
    """The :class:`InboundOpening` in a row of :func:`open_for_sender_statement`."""
    conversation = ConversationRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        channel_id=row.channel_id,
        contact_id=row.contact_id,
        state=ConversationState(row.state),
        created_at=row.created_at,
        last_inbound_at=row.last_inbound_at,
    )
    contact = ContactRecord(
        id=row.contact_id,
        tenant_id=row.tenant_id,
        channel_id=channel_id,
        external_id=external_id,
        display_name=row.contact_display_name,
        is_test=bool(row.contact_is_test),
        created_at=row.contact_created_at,
        followed=bool(row.contact_followed),
        opted_out_at=row.contact_opted_out_at,
        source=ContactSource(row.contact_source),
    )
    texts = (row._mapping[f"recent_{offset}"] for offset in range(recent))
    return InboundOpening(
        contact=contact,
        conversation=conversation,
        tenant_revision=int(row.tenant_revision),
        recent_bot_texts=tuple(text for text in texts if text is not None),
        flow_state=_flow_state(row),
    )


def _flow_state(row: Any) -> FlowState | None:
    if row.flow_flow is None:
        return None
    slots = json.loads(row.flow_slots_json)
    return FlowState(
        flow=row.flow_flow,
        state=row.flow_state,
        slots=tuple(sorted((str(k), str(v)) for k, v in slots.items())),
        retries=int(row.flow_retries),
        language=row.flow_language,
        updated_at=row.flow_updated_at,
    )


# --- the outcome: the message marked processed, with what the outcome reads ---------------


def _counted(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
    """The conversation's bot messages that meet ``conditions``, counted."""
    counted = select(func.count()).where(
        messages.c.conversation_id == bindparam("b_conversation_id"), _OUTBOUND, *conditions
    )
    return counted.scalar_subquery()


def _last_inbound(name: str) -> ColumnElement[Any]:
    """A column of the conversation's last inbound message."""
    subquery = (
        select(messages.c[name])
        .where(
            messages.c.conversation_id == bindparam("b_conversation_id"),
            messages.c.direction == Direction.INBOUND.value,
        )
        .order_by(messages.c.seq.desc())
        .limit(1)
    )
    return subquery.scalar_subquery()


FINISH = (
    update(messages)
    .where(
        messages.c.id == bindparam("message_id"),
        messages.c.status != InboundStatus.PROCESSED.value,
    )
    .values(status=InboundStatus.PROCESSED.value, kb_asked=bindparam("kb_asked"))
    .returning(
        *messages.c,
        select(conversations.c.state)
        .where(conversations.c.id == bindparam("b_conversation_id"))
        .scalar_subquery()
        .label("conversation_state"),
        select(handoffs.c.conversation_id)
        .where(handoffs.c.contact_id == bindparam("b_contact_id"), handoffs.c.rating_open)
        .order_by(handoffs.c.resolved_at.desc())
        .limit(1)
        .scalar_subquery()
        .label("rating_conversation_id"),
        _counted().label("outbound_total"),
        _counted(messages.c.seq > func.coalesce(_last_inbound("seq"), 0)).label(
            "outbound_since_inbound"
        ),
        _counted(messages.c.created_at >= bindparam("since")).label("outbound_since"),
        _counted(messages.c.reply_to_id == bindparam("message_id")).label("replies_to"),
        _last_inbound("created_at").label("last_inbound_created_at"),
        _last_inbound("kind").label("last_inbound_kind"),
    )
)
"""Mark the inbound message processed unless it already was, returning the row with
its conversation's state, the contact's open satisfaction question and the guard's
counts. Binds ``message_id``, ``kb_asked``, ``b_conversation_id``, ``b_contact_id``
and ``since``. No row: another pass processed it first."""


def activity_of(row: Any) -> ConversationActivity:
    """The guard's counts in a row of :data:`FINISH`."""
    return ConversationActivity(
        outbound_total=int(row.outbound_total),
        last_inbound_at=row.last_inbound_created_at,
        last_inbound_kind=row.last_inbound_kind,
        outbound_since_inbound=int(row.outbound_since_inbound),
        outbound_since=int(row.outbound_since),
        replies_to=int(row.replies_to),
    )


def finish_parameters(
    message_id: str, *, kb_asked: bool, conversation_id: str, contact_id: str, since: datetime
) -> dict[str, Any]:
    """The values :data:`FINISH` binds."""
    return {
        "message_id": message_id,
        "kb_asked": kb_asked,
        "b_conversation_id": conversation_id,
        "b_contact_id": contact_id,
        "since": since,
    }
