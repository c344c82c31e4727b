"""Multi-turn flows inside the pipeline: read the state, step, call, write the state.

:meth:`FlowRunner.read` loads what a step needs (the tenant's flows, the
conversation's flow state) inside the caller's transaction — the pipeline's
first one, so flows cost no transaction of their own. :meth:`FlowRunner.step`
then runs before the pipeline's outcome transaction (like handlers and the
knowledge base): the pure :func:`kindbot.dialogue.flows.advance` and any
endpoint calls — network I/O outside every database transaction.
:meth:`FlowRunner.record` then writes the new state (or deletes it) inside
the outcome transaction, so it commits together with the replies; a crash
before that commit leaves the old state and the message is processed again.

While a person holds the conversation the runner does nothing (the bot is
silent, flows too).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import httpx

from kindbot.core.events import InboundKind, OutboundReply, ReplyOrigin
from kindbot.core.ports.seams import Clock, Transaction
from kindbot.core.records.conversations import MessageRecord
from kindbot.core.records.flows import FlowDefinitions
from kindbot.dialogue.flow_codec import flows_from_json
from kindbot.dialogue.flow_specs import FlowBook
from kindbot.dialogue.flows import (
    CallResult,
    FlowOutcome,
    FlowState,
    FlowStep,
    advance,
    resume,
)
from kindbot.dialogue.responder import DialogueOutcome
from kindbot.pipeline.decide.flow_calls import EndpointSpec, call_endpoint, endpoints_from_json
from kindbot.pipeline.receive.turn import Turn
from kindbot.pipeline.tenant_cache import TenantCache
from kindbot.storage.sealing import SealError, SecretBox

log = logging.getLogger(__name__)

MAX_CALLS_PER_MESSAGE = 3
"""Endpoint calls one message may cause (a flow may call several endpoints in a row)."""


@dataclass(frozen=True, slots=True)
class FlowTurn:
    """What flows made of one message: replies (when ``handled``) and the state change."""

    replies: tuple[OutboundReply, ...]
    handled: bool
    before: FlowState | None
    after: FlowState | None
    outcome: FlowOutcome

    def dialogue(self) -> DialogueOutcome:
        """The flow's replies as the dialogue's outcome."""
        return DialogueOutcome(self.replies)


@dataclass(frozen=True, slots=True)
class FlowInputs:
    """What :meth:`FlowRunner.step` needs from the database, read in the caller's transaction."""

    definitions: FlowDefinitions | None
    state: FlowState | None
    bot_answers: bool
    """Whether the bot had the conversation when the inputs were read."""


@dataclass(frozen=True, slots=True)
class _Loaded:
    definitions: FlowDefinitions
    book: FlowBook
    endpoints: dict[str, EndpointSpec]


class FlowRunner:
    """Steps conversations through their tenant's flows (one per container)."""

    def __init__(
        self,
        *,
        box: SecretBox,
        http: httpx.AsyncClient,
        clock: Clock,
        cache: TenantCache | None = None,
    ) -> None:
        """``cache``: where the tenants' flow definitions are remembered per revision
        (the container's, shared with the channel directory)."""
        self._box = box
        self._http = http
        self._clock = clock
        self._cache = cache or TenantCache()
        self._loaded: dict[str, _Loaded] = {}

    async def read(
        self,
        tx: Transaction,
        message: MessageRecord,
        *,
        bot_has_it: bool,
        revision: int | None = None,
    ) -> FlowInputs:
        """The flows' inputs for ``message`` (no reads for a message flows never see).

        ``bot_has_it``: whether the bot has the conversation, as the caller read it.
        ``revision``: the tenant's revision, read by the caller in ``tx``: definitions
        remembered at that revision are used without a read (else read and
        remembered); None: always read.
        """
        if message.kind != InboundKind.TEXT.value or not bot_has_it:
            return FlowInputs(None, None, bot_answers=bot_has_it)
        state = await tx.flows.state(message.conversation_id)
        return await self.inputs(tx, message, state, bot_has_it=True, revision=revision)

    async def inputs(
        self,
        tx: Transaction,
        message: MessageRecord,
        state: FlowState | None,
        *,
        bot_has_it: bool,
        revision: int | None,
    ) -> FlowInputs:
        """As :meth:`read`, with the conversation's flow ``state`` already read in ``tx``
        (``conversations.open_for_sender`` reads it with the conversation)."""
        if message.kind != InboundKind.TEXT.value or not bot_has_it:
            return FlowInputs(None, None, bot_answers=bot_has_it)
        definitions = await self._definitions(tx, message.tenant_id, revision)
        return FlowInputs(definitions, state, bot_answers=True)

    async def _definitions(
        self, tx: Transaction, tenant_id: str, revision: int | None
    ) -> FlowDefinitions | None:
        if revision is not None:
            hit = self._cache.flows(tenant_id, revision)
            if hit is not None:
                return hit.value
        definitions = await tx.flows.definitions(tenant_id)
        if revision is not None:
            self._cache.remember_flows(tenant_id, definitions, revision)
        return definitions

    async def step(self, message: MessageRecord, turn: Turn, inputs: FlowInputs) -> FlowTurn | None:
        """The flows' move on a text message; None when no flow is involved."""
        if message.kind != InboundKind.TEXT.value or not inputs.bot_answers:
            return None
        definitions, state = inputs.definitions, inputs.state
        if definitions is None and state is None:
            return None
        loaded = self._load(turn.tenant.id, definitions)
        now = self._clock.now()
        step = advance(
            loaded.book,
            state,
            message.text,
            now,
            zone=ZoneInfo(turn.tenant.timezone),
            prefer_chinese=turn.prefer_chinese,
        )
        texts = list(step.replies)
        for _ in range(MAX_CALLS_PER_MESSAGE):
            if step.call is None or step.state is None:
                break
            step = await self._called(loaded, step, turn)
            texts += step.replies
        if step.call is not None:
            step = FlowStep((), None, True, FlowOutcome.FAILED)
        replies = tuple(OutboundReply(text, ReplyOrigin.FLOW) for text in _one(texts))
        return FlowTurn(replies, step.handled, state, step.state, step.outcome)

    async def record(self, tx: Transaction, message: MessageRecord, flowed: FlowTurn) -> None:
        """Store the flow state ``flowed`` ended in (inside the outcome transaction)."""
        if flowed.after == flowed.before:
            return
        if flowed.after is None:
            await tx.flows.clear_state(message.conversation_id)
            return
        await tx.flows.save_state(
            tenant_id=message.tenant_id,
            conversation_id=message.conversation_id,
            contact_id=message.contact_id,
            state=flowed.after,
        )

    async def _called(self, loaded: _Loaded, step: FlowStep, turn: Turn) -> FlowStep:
        assert step.call is not None
        assert step.state is not None
        endpoint = loaded.endpoints.get(step.call.endpoint)
        if endpoint is None:
            log.error("tenant %s: endpoint %s is not defined", turn.tenant.slug, step.call.endpoint)
            return resume(loaded.book, step.state, _FAILED)
        result = await call_endpoint(
            self._http,
            endpoint,
            step.call,
            tenant=turn.tenant.slug,
            contact_id=turn.contact.id,
        )
        return resume(loaded.book, step.state, result)

    def _load(self, tenant_id: str, definitions: FlowDefinitions | None) -> _Loaded:
        """The tenant's parsed flows and endpoints, parsed again only when they changed."""
        if definitions is None:
            return _Loaded(FlowDefinitions("", None, self._clock.now()), FlowBook(), {})
        cached = self._loaded.get(tenant_id)
        if cached is not None and cached.definitions == definitions:
            return cached
        try:
            book = flows_from_json(definitions.flows_json)
            sealed = definitions.endpoints_sealed
            endpoints = endpoints_from_json(self._box.open(sealed)) if sealed else {}
        except (ValueError, SealError) as exc:
            log.error("tenant %s: stored flows cannot be read: %s", tenant_id, exc)
            book, endpoints = FlowBook(), {}
        loaded = self._loaded[tenant_id] = _Loaded(definitions, book, endpoints)
        return loaded


_FAILED = CallResult(ok=False)


def _one(texts: list[str]) -> tuple[str, ...]:
    """All of a message's flow texts as one reply (the guard allows few per message)."""
    joined = "\n".join(text for text in texts if text.strip())
    return (joined,) if joined else ()
