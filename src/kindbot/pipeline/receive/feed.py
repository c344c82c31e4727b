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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from kindbot.core.errors import ChannelChangedError
from kindbot.core.events import (
    CallbackNonce,
    FeedResult,
    InboundAction,
    InboundEvent,
    InboundKind,
    OutboundReply,
    SentReply,
    Verdict,
)
from kindbot.core.ports.seams import Clock, SenderLocks, Store, Transaction
from kindbot.core.records.conversations import InboundStatus, MessageRecord
from kindbot.core.records.outbox import HandoverLease
from kindbot.core.records.tenancy import TenantRecord
from kindbot.core.screening import ContentContext, Direction
from kindbot.dialogue.handlers import HandlerResult
from kindbot.dialogue.handoff import bot_answers
from kindbot.dialogue.responder import DialogueOutcome, respond
from kindbot.dialogue.retrieval import KnowledgeIndex, effective_threshold
from kindbot.dialogue.unanswered import is_question
from kindbot.guard.content_rules import inbound_flag
from kindbot.guard.rules import decide_inbound
from kindbot.pipeline.admit.admission import RATE_WINDOW, Admission
from kindbot.pipeline.admit.requests import Taking
from kindbot.pipeline.decide.flows import FlowInputs, FlowRunner, FlowTurn
from kindbot.pipeline.decide.generative import GenerativeAnswers
from kindbot.pipeline.decide.handlers import HandlerModules
from kindbot.pipeline.decide.knowledge import KnowledgeCache
from kindbot.pipeline.decide.sentence_batches import SentenceBatcher
from kindbot.pipeline.directory import ChannelDirectory, ResolvedChannel
from kindbot.pipeline.handover.passive import HANDOVER_LEASE, HandoverMixin, new_token
from kindbot.pipeline.live.bus import InboxBus, InboxNotes
from kindbot.pipeline.receive.echoes import customer_text
from kindbot.pipeline.receive.inbound_actions import act_on_inbound
from kindbot.pipeline.receive.nonces import remember_nonce
from kindbot.pipeline.receive.sender_locks import LocalSenderLocks
from kindbot.pipeline.receive.turn import AuditBatch, Turn, turn_for

RECENT_BOT_TEXTS = 3
"""How many of the bot's last messages an inbound message is compared with (loop detection)."""


class Pipeline(HandoverMixin):
    """Feeds inbound events through the guard and dialogue into the outbox."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        directory: ChannelDirectory,
        knowledge: KnowledgeCache,
        outbox_ready: asyncio.Event,
        admission: Admission,
        handlers: HandlerModules,
        flows: FlowRunner,
        inbox: InboxBus | None = None,
        generative: GenerativeAnswers | None = None,
        sentences: SentenceBatcher | None = None,
        senders: SenderLocks | None = None,
    ) -> None:
        """``sentences`` encodes the questions about to be searched in shared model
        calls (None: a search encodes its question itself). ``senders``: the locks
        that serialise one sender's messages (default: this process's only)."""
        self._store = store
        self._sentences = sentences
        self._flows = flows
        self._generative = generative
        self._handlers = handlers
        self._inbox = inbox or InboxBus()
        self._admission = admission
        self._clock = clock
        self._directory = directory
        self._knowledge = knowledge
        self._outbox_ready = outbox_ready
        self._senders = senders or LocalSenderLocks()

    async def feed(
        self,
        event: InboundEvent,
        *,
        sync_grace: timedelta | None,
        resolved: ResolvedChannel | None = None,
        nonce: CallbackNonce | None = None,
        take: int = 0,
        waiting: Callable[[], bool] | None = None,
        retries: bool = True,
        verified: bool = False,
    ) -> FeedResult:
        """Store ``event`` once and produce its replies.

        ``sync_grace`` set: the caller hands the replies over itself (an HTTP
        response, a socket, a terminal) and then calls :meth:`mark_delivered`;
        the outbox worker delivers them only if that has not happened within
        the grace period. ``None``: the outbox worker delivers at once.
        A duplicate event returns the first outcome and is not processed again.
        ``resolved`` saves a lookup when the caller already resolved the channel;
        it may be a revision behind (the process's cache): the store transaction
        reads the tenant's revision and, when it moved on, continues with the
        channel and tenant as they are now (:class:`NotFoundError` when the
        channel is now disabled, nothing stored). ``verified``: the caller
        checked the request's signature with ``resolved``'s configuration — if
        that changed meanwhile, :class:`ChannelChangedError` (nothing stored),
        so the caller verifies again with the current one (implied by a ``nonce``:
        only a verified callback has one); so does a channel whose kind changed.
        ``nonce``: refuse (:class:`SignatureError` ``replayed_nonce``, nothing
        stored) a callback whose nonce was already used for another message;
        checked in the same transaction that stores the message.
        ``take``: the caller hands over up to that many replies itself (a
        passive reply, a response body); they are claimed for it (``handed_over``,
        :attr:`FeedResult.taken`, not yet delivered) in the outcome's own
        transaction and the rest are released to the outbox worker at once. The
        caller confirms them once its response was sent (:meth:`confirm`) or
        gives them back (:meth:`release`). A duplicate that was processed
        before takes nothing here: :meth:`claim_for_passive` claims its replies.
        ``waiting``: asked in the outcome transaction; False (the caller already
        answered without the replies) takes nothing. ``retries``: the caller
        retries a request whose answer it did not get (so an unconfirmed
        hand-over nobody retried was received; see :mod:`.handover`).
        """
        given = resolved or await self._directory.by_public_id(event.channel_public_id, cached=True)
        channel, tenant = given.channel, given.tenant  # their ids never change
        async with self._senders.hold(channel.id, event.sender):
            async with self._store.transaction() as tx:
                if nonce is not None:
                    await remember_nonce(tx, given, nonce, event)
                opened = await tx.conversations.open_for_sender(
                    tenant_id=tenant.id,
                    channel_id=channel.id,
                    external_id=event.sender,
                    display_name=event.sender_name,
                    idempotency_key=event.idempotency_key,
                    at=event.received_at,
                    recent=RECENT_BOT_TEXTS,
                )
                contact, conversation = opened.contact, opened.conversation
                revision = opened.tenant_revision
                resolved = await self._directory.current(tx, given, revision)
                checked = verified or nonce is not None
                if resolved.channel.kind != given.channel.kind or (
                    checked and resolved.config != given.config
                ):
                    raise ChannelChangedError(
                        f"channel {channel.public_id!r} changed: verify the request again"
                    )
                message, created = await tx.messages.insert_inbound(
                    event=event,
                    tenant_id=tenant.id,
                    channel_id=channel.id,
                    contact_id=contact.id,
                    conversation_id=conversation.id,
                )
                done = not created and message.status == InboundStatus.PROCESSED
                if not done:
                    bot_has_it = bot_answers(conversation.state)
                    flows = await self._flows.inputs(
                        tx, message, opened.flow_state, bot_has_it=bot_has_it, revision=revision
                    )
                    inputs = _TurnInputs(resolved.tenant.kb_version, opened.recent_bot_texts, flows)
            if done:
                return await self.outcome(message.id, duplicate=True)
            turn = turn_for(resolved, contact, conversation.id, inputs.recent)
            return await self._process(
                message,
                turn,
                inputs,
                sync_grace,
                duplicate=not created,
                take=take,
                waiting=waiting,
                retries=retries,
            )

    async def process(self, message_id: str, *, sync_grace: timedelta | None) -> FeedResult:
        """Run guard and dialogue for a stored inbound message (idempotent; used by recovery)."""
        async with self._store.transaction() as tx:
            message = await tx.messages.lock_inbound(message_id)
            contact = await tx.contacts.get(message.contact_id)
        assert contact is not None
        resolved = await self._directory.by_id(message.channel_id)
        async with self._senders.hold(message.channel_id, contact.external_id):
            async with self._store.transaction(readonly=True) as tx:
                conversation = await tx.conversations.get(message.conversation_id)
                bot_has_it = conversation is not None and bot_answers(conversation.state)
                inputs = await self._turn_inputs(tx, message, bot_has_it, resolved.tenant)
            turn = turn_for(resolved, contact, message.conversation_id, inputs.recent)
            return await self._process(message, turn, inputs, sync_grace, duplicate=False)

    async def _turn_inputs(
        self, tx: Transaction, message: MessageRecord, bot_has_it: bool, tenant: TenantRecord
    ) -> _TurnInputs:
        """What the turn reads with a message stored earlier (recovery). ``tenant``
        is current (its ``kb_version`` too)."""
        return _TurnInputs(
            kb_version=tenant.kb_version,
            recent=tuple(
                await tx.messages.recent_outbound_texts(message.conversation_id, RECENT_BOT_TEXTS)
            ),
            flows=await self._flows.read(tx, message, bot_has_it=bot_has_it),
        )

    async def _process(
        self,
        stored: MessageRecord,
        turn: Turn,
        inputs: _TurnInputs,
        sync_grace: timedelta | None,
        *,
        duplicate: bool,
        take: int = 0,
        waiting: Callable[[], bool] | None = None,
        retries: bool = True,
    ) -> FeedResult:
        """Decide, answer and commit the outcome (the caller holds the sender's lock)."""
        # Decide first (pure, CPU): nothing below holds the database's writer for it.
        inbound = decide_inbound(
            InboundKind(stored.kind),
            stored.text,
            prefer_chinese=turn.prefer_chinese,
            event=stored.event,
            recent_bot_texts=turn.recent_bot_texts,
        )
        flagged = await self._screen_inbound(stored, turn)
        dialogue = None
        flowed: FlowTurn | None = None
        if inbound.action is InboundAction.CONTINUE:
            flowed = await self._flows.step(stored, turn, inputs.flows)
        if flowed is not None and flowed.handled:
            dialogue = flowed.dialogue()
        elif inbound.action is InboundAction.CONTINUE:
            index = await self._knowledge.index_at(
                turn.tenant.id, inputs.kb_version, quick_start=True
            )
            if self._sentences is not None and index.wants_sentence(stored.text):
                await self._sentences.prepare(index, stored.text)  # the model, off the loop
            handled = await self._handlers.answer(stored, turn)
            dialogue = self._dialogue(stored, turn, index, handled)
            if self._generative is not None:  # the model call: outside any transaction
                dialogue = await self._generative.revise(
                    dialogue,
                    stored.text,
                    index,
                    turn.tenant,
                    conversation_id=turn.conversation_id,
                )
        # A flow's turn (its outcome never says asked), an opt-out or opt-in word (no
        # dialogue), a pick or a person request, a phone number or a bare number:
        # not a question for ``kb unanswered``.
        kb_asked = dialogue is not None and dialogue.asked and is_question(stored.text)
        async with self._store.transaction() as tx:
            since = self._clock.now() - RATE_WINDOW
            finished = await tx.messages.finish_inbound(stored, kb_asked=kb_asked, since=since)
            if finished is None:  # another pass processed it first
                done = await tx.messages.lock_inbound(stored.id)
                return await self._outcome(tx, done, duplicate=True)
            message = finished.message
            audit = AuditBatch(turn.tenant.id)
            audit.add(
                at=self._clock.now(),
                kind="inbound",
                subject=f"message:{message.id}",
                verdict=inbound.verdict,
            )
            if flagged is not None:
                audit.add(
                    at=self._clock.now(),
                    kind="inbound_content",
                    subject=f"message:{message.id}",
                    verdict=flagged,
                )
            notes = InboxNotes()
            replies, turn = await act_on_inbound(
                tx, finished, inbound, turn, dialogue, (audit, notes), self._clock.now()
            )
            if flowed is not None:
                await self._flows.record(tx, message, flowed)
            taking = self._taking(take, waiting, retries)
            guarded = await self._admission.enqueue_guarded(
                tx,
                turn,
                audit,
                replies,
                reply_to_id=message.id,
                sync_grace=sync_grace,
                customer_text=customer_text(message, flowed),
                taking=taking,
                activity=finished.activity,
            )
            sent, taken = guarded.sent, tuple(guarded.taken)
            token = taking.lease.token if taking is not None else None
            await audit.flush(tx)
        self._inbox.publish_all(notes)
        if len(sent) > len(taken) and (sync_grace is None or take):
            self._outbox_ready.set()
        return FeedResult(
            inbound_message_id=message.id,
            conversation_id=message.conversation_id,
            contact_id=message.contact_id,
            duplicate=duplicate,
            replies=tuple(sent),
            received_at=message.created_at,
            taken=taken,
            handover_token=token if taken else None,
        )

    def _taking(
        self, take: int, waiting: Callable[[], bool] | None, retries: bool
    ) -> Taking | None:
        """The caller's hand-over of up to ``take`` replies, unless it stopped waiting."""
        if not take or (waiting is not None and not waiting()):
            return None
        lease = HandoverLease(new_token(retries=retries), self._clock.now() + HANDOVER_LEASE)
        return Taking(lease, take)

    async def _screen_inbound(self, message: MessageRecord, turn: Turn) -> Verdict | None:
        """Moderation's view of a customer's text, when it finds something (else None).

        Inbound text is never blocked — it is the customer's — only recorded,
        by category and rule (no text), for the people who review the chat.
        """
        screener = await self._admission.screener()
        if screener is None or message.kind != InboundKind.TEXT.value:
            return None
        context = ContentContext(Direction.INBOUND, tenant_id=turn.tenant.id)
        return inbound_flag(screener.screen(message.text, context))

    def _dialogue(
        self, message: MessageRecord, turn: Turn, index: KnowledgeIndex, handled: HandlerResult
    ) -> DialogueOutcome:
        return respond(
            InboundKind(message.kind),
            message.text,
            index,
            threshold=effective_threshold(index, turn.tenant.kb_threshold),
            prefer_chinese=turn.prefer_chinese,
            recent_bot_texts=turn.recent_bot_texts,
            handled=handled,
        )

    async def enqueue_guarded(
        self,
        tx: Transaction,
        turn: Turn,
        audit: AuditBatch,
        replies: tuple[OutboundReply, ...],
        *,
        reply_to_id: str | None,
        sync_grace: timedelta | None,
        customer_text: tuple[str, ...] = (),
    ) -> list[SentReply]:
        """Replies through :meth:`kindbot.pipeline.admit.admission.Admission.enqueue_guarded`."""
        guarded = await self._admission.enqueue_guarded(
            tx,
            turn,
            audit,
            replies,
            reply_to_id=reply_to_id,
            sync_grace=sync_grace,
            customer_text=customer_text,
        )
        return guarded.sent


@dataclass(frozen=True, slots=True)
class _TurnInputs:
    """What a message's processing reads with it (in the transaction that stores it)."""

    kb_version: int
    recent: tuple[str, ...]
    flows: FlowInputs
