"""Stores the demo shop's history (:mod:`kindbot.demo.history`) through kindbot's real paths.

Each step runs at its own historical time on a clock the seeder moves
(:class:`HistoryClock`, given to the container as its clock), oldest first:

* what a contact says goes through the channel's own parser (web chat:
  ``webchat.to_event``; webhook: ``webhook.parse`` of the JSON body) and the
  full pipeline — guard verdicts, dialogue, audit entries, hand-off requests —
  and its replies are marked delivered the way the channel's edge does
  (the widget's socket, the webhook's response body);
* what the agent does goes through the inbox (``Inbox.claim``/``reply``/
  ``resolve``, through the guard), and the outbox worker then delivers the
  agent's messages to the web chat's history (no visitor is connected);
* the shop's facts go through ``ops.events.record_events`` in all-or-nothing
  batches.

Nothing reaches a channel outside kindbot: the demo's web chat keeps replies
in its history and its webhook has no ``outgoing_url``. No consent is recorded:
nobody in the history subscribes to anything.

Seeding happens once per shop: a shop that has any business event already is
left as it is (:func:`seed_history` returns None).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kindbot.bootstrap import Container, open_container
from kindbot.bundles.apply import public_channel_id
from kindbot.channels import webchat, webhook
from kindbot.core.errors import NotFoundError
from kindbot.core.records.handoff import AgentRecord
from kindbot.core.records.tenancy import TenantRecord
from kindbot.demo.history import ChatStep, History, ShopEvent, StepKind, demo_questions, generate
from kindbot.inbox.desk import Acting
from kindbot.ops.events import record_events
from kindbot.settings import Settings

SYNC_GRACE = timedelta(seconds=30)
ACTOR = "demo"
EVENT_BATCH = 1000
DELIVERY_ROUNDS = 3


class HistoryClock:
    """The container's clock while the history is stored: it shows what the seeder sets."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        """The moment being replayed (UTC)."""
        return self._at

    def move_to(self, at: datetime) -> None:
        """Go to ``at``; never backwards (a step older than the last one keeps the clock)."""
        self._at = max(self._at, at)


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What :func:`seed_history` stored."""

    start: datetime
    end: datetime
    contacts: int
    messages: int
    handoffs: int
    orders: int
    refunds: int
    signups: int

    def summary(self) -> str:
        """One line for the demo's output."""
        return (
            f"demo history {self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}: {self.contacts} contacts, "
            f"{self.messages} messages through the pipeline, {self.handoffs} rated hand-offs, "
            f"{self.orders} orders, {self.refunds} refunds, {self.signups} sign-ups"
        )


Progress = Callable[[int], None]
"""Told how many more of :func:`history_size`'s items were stored."""


def history_for(now: datetime) -> History:
    """The demo history ending at ``now``."""
    return generate(now, demo_questions())


def history_size(history: History) -> int:
    """How many items seeding ``history`` stores (for a progress bar)."""
    return len(history.steps) + len(history.events)


async def seed_history(
    settings: Settings,
    slug: str,
    history: History,
    progress: Progress = lambda _: None,
) -> SeedReport | None:
    """Store ``history`` for the shop ``slug`` unless it has business events already.

    The shop must exist and be approved (the demo applies and approves it first).
    """
    clock = HistoryClock(history.start)
    async with open_container(settings, clock=clock, auto_migrate=True) as c:
        async with c.store.transaction(readonly=True) as tx:
            tenant = await tx.tenants.get_by_slug(slug)
            if tenant is None:
                raise NotFoundError(f"no tenant {slug!r}")
            if await tx.events.count(tenant.id) > 0:
                return None
        seeder = _Seeder(c, clock, tenant, await _agent(c, tenant), progress)
        for item in _timeline(history):
            if isinstance(item, ChatStep):
                await seeder.step(item)
            else:
                await seeder.events(item)
    return SeedReport(
        start=history.start,
        end=history.end,
        contacts=len(history.contacts),
        messages=sum(1 for s in history.steps if s.kind is StepKind.SAY),
        handoffs=history.ratings,
        orders=sum(1 for e in history.events if e.type == "order"),
        refunds=sum(1 for e in history.events if e.type == "refund"),
        signups=sum(1 for e in history.events if e.type == "signup"),
    )


def _timeline(history: History) -> Iterator[ChatStep | tuple[ShopEvent, ...]]:
    """Steps and events merged by time; consecutive events as one batch."""
    events = list(history.events)
    batch: list[ShopEvent] = []
    position = 0
    for step in history.steps:
        while position < len(events) and events[position].occurred_at <= step.at:
            batch.append(events[position])
            position += 1
            if len(batch) == EVENT_BATCH:
                yield tuple(batch)
                batch = []
        if batch:
            yield tuple(batch)
            batch = []
        yield step
    rest = events[position:]
    for first in range(0, len(rest), EVENT_BATCH):
        yield tuple(rest[first : first + EVENT_BATCH])


async def _agent(c: Container, tenant: TenantRecord) -> AgentRecord:
    """The demo's agent (named like the demo's agent login, which then takes it over)."""
    name = f"agent@{tenant.slug}.demo"
    for agent in await c.inbox.agents(tenant):
        if agent.name == name:
            return agent
    return await c.inbox.add_agent(tenant, name)


class _Seeder:
    """Replays steps and event batches at their times."""

    def __init__(
        self,
        c: Container,
        clock: HistoryClock,
        tenant: TenantRecord,
        agent: AgentRecord,
        progress: Progress,
    ) -> None:
        self._c = c
        self._clock = clock
        self._tenant = tenant
        self._acting = Acting(ACTOR, agent)
        self._progress = progress
        self._conversations: dict[tuple[str, str], str] = {}
        self._sequence = 0

    async def events(self, batch: Sequence[ShopEvent]) -> None:
        self._clock.move_to(batch[0].occurred_at)
        await record_events(
            self._c.store, self._tenant, [e.row() for e in batch], self._clock.now()
        )
        self._progress(len(batch))

    async def step(self, step: ChatStep) -> None:
        self._clock.move_to(step.at)
        key = (step.channel, step.contact)
        inbox = self._c.inbox
        if step.kind is StepKind.SAY:
            await self._say(step)
        elif step.kind is StepKind.CLAIM:
            await inbox.claim(self._tenant, self._conversations[key], self._acting)
        elif step.kind is StepKind.REPLY:
            await inbox.reply(self._tenant, self._conversations[key], self._acting, step.text)
            await self._deliver()
        else:
            await inbox.resolve(self._tenant, self._conversations[key], self._acting)
            await self._deliver()
        self._progress(1)

    async def _say(self, step: ChatStep) -> None:
        channel_id = public_channel_id(self._tenant.slug, step.channel)
        self._sequence += 1
        message_id = f"demo-{self._sequence:05d}"
        now = self._clock.now()
        if step.channel == "web":
            submission = webchat.ChatSubmission(step.text, message_id)
            event = webchat.to_event(
                submission, channel_public_id=channel_id, visitor_id=step.contact, now=now
            )
        else:
            body = {"user": step.contact, "text": step.text, "id": message_id}
            event = webhook.parse(
                json.dumps(body, ensure_ascii=False).encode("utf-8"),
                channel_public_id=channel_id,
                now=now,
            )
        pipeline = self._c.pipeline
        result = await pipeline.feed(event, sync_grace=SYNC_GRACE)
        await pipeline.mark_delivered(result)
        self._conversations[(step.channel, step.contact)] = result.conversation_id

    async def _deliver(self) -> None:
        """The agent's messages: the outbox worker puts them in the web chat's history."""
        for _ in range(DELIVERY_ROUNDS):
            if not await self._c.outbox_worker.run_once():
                return
