"""The agents' inbox: agents, and what an agent does with a handed-off conversation.

Every operation is one transaction; state moves are decided by
:func:`kindbot.dialogue.handoff.transition` (409 ``invalid_transition``),
audited (kind ``handoff``, with the caller's actor and the agent) and
announced on the :class:`InboxBus` after commit. Agent replies and the
satisfaction question go through :meth:`Admission.enqueue_guarded` like
every other send: the guard may refuse them.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from kindbot.channels.registry import window_policy
from kindbot.core.errors import BadRequestError, KindbotError, NotFoundError
from kindbot.core.events import Decision, OutboundReply, ReplyOrigin, Verdict
from kindbot.core.ports.seams import Clock, Store, Transaction
from kindbot.core.records.conversations import ConversationRecord, ConversationState, MessageRecord
from kindbot.core.records.handoff import AgentRecord, ConversationNote, InboxItem
from kindbot.core.records.tenancy import TenantRecord
from kindbot.dialogue.handoff import HandoffAction, satisfaction_question, transition
from kindbot.pipeline.admit.admission import Admission
from kindbot.pipeline.directory import ChannelDirectory
from kindbot.pipeline.live.bus import InboxBus, InboxEvent, InboxNotes
from kindbot.pipeline.receive.handoff_desk import (
    assign,
    assign_waiting,
    audit_move,
    conversation_of,
)
from kindbot.pipeline.receive.turn import AuditBatch, Turn

MAX_NAME = 100
MAX_REPLY = 2000
MAX_NOTE = 2000
HISTORY = 500


class InboxConflictError(KindbotError):
    """The request clashes with the current state (HTTP 409)."""

    code = "conflict"
    http_status = 409


class NotAssignedError(KindbotError):
    """The acting agent does not have this conversation (HTTP 403)."""

    code = "not_assigned"
    http_status = 403


@dataclass(frozen=True, slots=True)
class Conversation:
    """A handed-off conversation and its messages, oldest first."""

    item: InboxItem
    messages: tuple[MessageRecord, ...]


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """What the guard decided about an agent's reply (``message_id`` set when admitted)."""

    verdict: Verdict
    message_id: str | None


@dataclass(frozen=True, slots=True)
class Acting:
    """Who acts: the API caller's ``actor`` on behalf of ``agent``."""

    actor: str
    agent: AgentRecord

    @property
    def label(self) -> str:
        """``actor`` and the agent's name, as audit entries name them."""
        return f"{self.actor} as agent:{self.agent.name}"


def check_name(name: str) -> str:
    """A valid agent name (1–100 characters, trimmed) or 400 ``invalid_name``."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise BadRequestError(f"name: 1 to {MAX_NAME} characters", code="invalid_name")
    return name


class Inbox:
    """Agents and the inbox operations (one per container)."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        directory: ChannelDirectory,
        admission: Admission,
        bus: InboxBus,
        outbox_ready: asyncio.Event,
    ) -> None:
        self._store = store
        self._clock = clock
        self._directory = directory
        self._admission = admission
        self._bus = bus
        self._outbox_ready = outbox_ready

    async def add_agent(self, tenant: TenantRecord, name: str) -> AgentRecord:
        """A new (offline) agent; 409 ``agent_exists`` when the name is taken."""
        name = check_name(name)
        async with self._store.transaction() as tx:
            if await tx.agents.by_name(tenant.id, name) is not None:
                raise InboxConflictError(f"agent {name!r} already exists", code="agent_exists")
            return await tx.agents.add(tenant_id=tenant.id, name=name, now=self._clock.now())

    async def agents(self, tenant: TenantRecord) -> list[AgentRecord]:
        """The tenant's agents, oldest first."""
        async with self._store.transaction(readonly=True) as tx:
            return await tx.agents.list(tenant.id)

    async def agent(self, tenant: TenantRecord, ref: str) -> AgentRecord:
        """The tenant's agent by id or name; 404 ``unknown_agent`` (also for other tenants')."""
        async with self._store.transaction(readonly=True) as tx:
            found = await tx.agents.get(ref)
            if found is None or found.tenant_id != tenant.id:
                found = await tx.agents.by_name(tenant.id, ref)
        if found is None:
            raise NotFoundError("no such agent for this tenant", code="unknown_agent")
        return found

    async def set_online(self, tenant: TenantRecord, ref: str, online: bool) -> AgentRecord:
        """Mark the agent online (taking round-robin assignments) or offline.

        Coming online also hands out the conversations that were left waiting
        while nobody was online (:func:`~kindbot.pipeline.receive.handoff_desk.assign_waiting`).
        """
        agent = await self.agent(tenant, ref)
        notes = InboxNotes()
        async with self._store.transaction() as tx:
            await tx.agents.set_online(agent.id, online)
            if online:
                audit = AuditBatch(tenant.id)
                now = self._clock.now()
                await assign_waiting(tx, tenant.id, at=now, audit=audit, notes=notes)
                await audit.flush(tx)
            updated = await tx.agents.get(agent.id)
        self._bus.publish_all(notes)
        assert updated is not None
        return updated

    async def list(
        self, tenant: TenantRecord, *, state: ConversationState | None, agent_id: str | None
    ) -> list[InboxItem]:
        """Handed-off conversations (waiting and human unless ``state``), oldest request first."""
        states = (state,) if state is not None else _OPEN_STATES
        async with self._store.transaction(readonly=True) as tx:
            return await tx.handoffs.inbox(tenant.id, states=states, agent_id=agent_id)

    async def read(self, tenant: TenantRecord, conversation_id: str) -> Conversation:
        """One handed-off conversation with its messages; 404 ``unknown_conversation``."""
        async with self._store.transaction(readonly=True) as tx:
            conversation = await conversation_of(tx, tenant.id, conversation_id)
            item = await _item(tx, conversation)
            history = await tx.messages.history(conversation.id, HISTORY)
        ordered = sorted(history, key=lambda m: m.created_at)
        return Conversation(item, tuple(ordered))

    async def claim(self, tenant: TenantRecord, conversation_id: str, acting: Acting) -> InboxItem:
        """``waiting → human`` for the acting agent."""
        return await self._move(tenant, conversation_id, acting, acting.agent, HandoffAction.CLAIM)

    async def transfer(
        self, tenant: TenantRecord, conversation_id: str, acting: Acting, to: AgentRecord
    ) -> InboxItem:
        """Hand the acting agent's conversation to ``to`` (another agent of the tenant)."""
        return await self._move(tenant, conversation_id, acting, to, HandoffAction.TRANSFER)

    async def reply(
        self, tenant: TenantRecord, conversation_id: str, acting: Acting, text: str
    ) -> ReplyOutcome:
        """The agent's ``text`` to the contact, through the guard (``ReplyOrigin.AGENT``)."""
        text = text.strip()
        if not text or len(text) > MAX_REPLY:
            raise BadRequestError(f"text: 1 to {MAX_REPLY} characters", code="invalid_text")
        async with self._store.transaction() as tx:
            conversation = await conversation_of(tx, tenant.id, conversation_id)
            await _require_holder(tx, conversation, acting)
            turn = await self._turn(tx, tenant, conversation)
            audit = AuditBatch(tenant.id)
            guarded = await self._admission.enqueue_guarded(
                tx,
                turn,
                audit,
                (OutboundReply(text, ReplyOrigin.AGENT),),
                reply_to_id=None,
                sync_grace=None,
            )
            await audit.flush(tx)
        if guarded.sent:
            self._outbox_ready.set()
            return ReplyOutcome(_ALLOWED, guarded.sent[0].message_id)
        return ReplyOutcome(guarded.stopped[0].verdict, None)

    async def add_note(
        self, tenant: TenantRecord, conversation_id: str, author: str, text: str
    ) -> ConversationNote:
        """An internal note on the conversation (never sent); 400 ``invalid_note``, 404."""
        body = text.strip()
        if not body or len(body) > MAX_NOTE:
            raise BadRequestError(f"note: 1 to {MAX_NOTE} characters", code="invalid_note")
        async with self._store.transaction() as tx:
            conversation = await conversation_of(tx, tenant.id, conversation_id)
            note = ConversationNote(
                id=uuid.uuid4().hex,
                tenant_id=tenant.id,
                conversation_id=conversation.id,
                author=author,
                text=body,
                created_at=self._clock.now(),
            )
            await tx.notes.add(note)
        return note

    async def notes(
        self, tenant: TenantRecord, conversation_id: str
    ) -> tuple[ConversationNote, ...]:
        """The conversation's internal notes, oldest first; 404 ``unknown_conversation``."""
        async with self._store.transaction(readonly=True) as tx:
            conversation = await conversation_of(tx, tenant.id, conversation_id)
            return tuple(await tx.notes.for_conversation(conversation.id))

    async def resolve(
        self, tenant: TenantRecord, conversation_id: str, acting: Acting
    ) -> InboxItem:
        """``→ resolved``, then the satisfaction question through the guard.

        The contact's next message, when it is 1–5, is recorded as the rating
        (:func:`kindbot.pipeline.receive.handoff_desk.holds`) and its next-but-one
        opens a new conversation with the bot.
        """
        notes = InboxNotes()
        async with self._store.transaction() as tx:
            conversation = await conversation_of(tx, tenant.id, conversation_id)
            if conversation.state is ConversationState.HUMAN:
                await _require_holder(tx, conversation, acting)
            after = transition(conversation.state, HandoffAction.RESOLVE)
            turn = await self._turn(tx, tenant, conversation)
            audit = AuditBatch(tenant.id)
            question = OutboundReply(satisfaction_question(tenant.language), ReplyOrigin.SYSTEM)
            guarded = await self._admission.enqueue_guarded(
                tx, turn, audit, (question,), reply_to_id=None, sync_grace=None
            )
            now = self._clock.now()
            await tx.conversations.set_state(conversation.id, after)
            await tx.handoffs.resolve(conversation.id, now, ask_rating=bool(guarded.sent))
            audit_move(
                audit,
                at=now,
                conversation_id=conversation.id,
                action=HandoffAction.RESOLVE,
                actor=acting.label,
                agent=acting.agent,
                before=conversation.state,
                after=after,
            )
            await audit.flush(tx)
            notes.add(InboxEvent(tenant.id, "resolved", conversation.id, after.value))
            item = await _item(tx, await conversation_of(tx, tenant.id, conversation.id))
        self._bus.publish_all(notes)
        if guarded.sent:
            self._outbox_ready.set()
        return item

    async def _move(
        self,
        tenant: TenantRecord,
        conversation_id: str,
        acting: Acting,
        to: AgentRecord,
        action: HandoffAction,
    ) -> InboxItem:
        notes = InboxNotes()
        async with self._store.transaction() as tx:
            conversation = await conversation_of(tx, tenant.id, conversation_id)
            holder = None
            if action is HandoffAction.TRANSFER:
                await _require_holder(tx, conversation, acting)
                holder = acting.agent.id
            audit = AuditBatch(tenant.id)
            await assign(
                tx,
                conversation,
                to,
                action=action,
                actor=acting.label,
                at=self._clock.now(),
                audit=audit,
                notes=notes,
                holder=holder,
            )
            await audit.flush(tx)
            item = await _item(tx, await conversation_of(tx, tenant.id, conversation.id))
        self._bus.publish_all(notes)
        return item

    async def _turn(
        self, tx: Transaction, tenant: TenantRecord, conversation: ConversationRecord
    ) -> Turn:
        contact = await tx.contacts.get(conversation.contact_id)
        if contact is None:
            raise NotFoundError("the contact was erased", code="unknown_contact")
        resolved = await self._directory.by_id(conversation.channel_id)
        window = window_policy(resolved.channel.kind, contact.external_id, resolved.config)
        return Turn(tenant, resolved.channel, contact, conversation.id, window)


_OPEN_STATES = (ConversationState.WAITING, ConversationState.HUMAN)
_ALLOWED = Verdict(
    decision=Decision.ALLOW,
    rule="guard",
    reason_zh="已通过所有规则。",
    reason_en="Every rule allows it.",
)


async def _require_holder(
    tx: Transaction, conversation: ConversationRecord, acting: Acting
) -> None:
    """403 ``not_assigned`` unless the acting agent has the conversation (state ``human``)."""
    if conversation.state is not ConversationState.HUMAN:
        raise InboxConflictError(
            f"the conversation is {conversation.state.value}, not with an agent",
            code="invalid_transition",
        )
    handoff = await tx.handoffs.get(conversation.id)
    if handoff is None or handoff.agent_id != acting.agent.id:
        raise NotAssignedError("another agent has this conversation")


async def _item(tx: Transaction, conversation: ConversationRecord) -> InboxItem:
    contact = await tx.contacts.get(conversation.contact_id)
    channel = await tx.channels.get(conversation.channel_id)
    handoff = await tx.handoffs.get(conversation.id)
    if handoff is None:
        raise NotFoundError("the conversation was never handed off", code="unknown_conversation")
    return InboxItem(
        conversation_id=conversation.id,
        state=conversation.state,
        channel=channel.local_id if channel is not None else "",
        external_id=contact.external_id if contact is not None else "",
        agent_id=handoff.agent_id,
        requested_at=handoff.requested_at,
        last_inbound_at=conversation.last_inbound_at,
        rating=handoff.rating,
    )
