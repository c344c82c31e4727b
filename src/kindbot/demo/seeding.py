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

* the campaign (:class:`kindbot.demo.history.DemoCampaign`) is created at its
  time by ``Campaigns.create`` over the tag its subscribers were given (the
  holdout chosen and recorded then), sent by the campaign worker's pass
  through the guard and delivered by the outbox worker; its orders, decided
  once the holdout is known, join the timeline at their times.

Nothing reaches a channel outside kindbot: the demo's web chat keeps replies
in its history and its webhook has no ``outgoing_url``. The only consent is
the tea club's: visitors who sent 「订阅」 themselves.

Seeding happens once per shop: a shop that has any business event already is
left as it is (:func:`seed_history` returns None).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from kindbot.bootstrap import Container, open_container
from kindbot.bundles.apply import public_channel_id
from kindbot.campaigns.assignment import holdout_size
from kindbot.campaigns.audiences import AudienceSpec
from kindbot.campaigns.proactive import run_due_deferred
from kindbot.campaigns.service import CampaignDraft
from kindbot.channels import webchat, webhook
from kindbot.core.errors import NotFoundError
from kindbot.core.journeys import journey_definition
from kindbot.core.records.campaigns import Arm, CampaignStatus, Variant
from kindbot.core.records.handoff import AgentRecord
from kindbot.core.records.journeys import TriggerKind
from kindbot.core.records.tenancy import TenantRecord
from kindbot.demo.history import (
    CAMPAIGN_HOLDOUT,
    CAMPAIGN_NAME,
    CAMPAIGN_TAG,
    CAMPAIGN_TOPIC,
    CAMPAIGN_VARIANTS,
    CAMPAIGN_WINDOW_DAYS,
    HOLDOUT_RATE,
    TREATMENT_RATE,
    ChatStep,
    DemoCampaign,
    History,
    ShopEvent,
    StepKind,
    demo_questions,
    generate,
)
from kindbot.inbox.desk import Acting
from kindbot.ops.events import record_events
from kindbot.ops.segments import create_segment
from kindbot.segments.codec import parse_definition
from kindbot.settings import Settings

SYNC_GRACE = timedelta(seconds=30)
ACTOR = "demo"
EVENT_BATCH = 1000
DELIVERY_ROUNDS = 3
CAMPAIGN_SECONDS = 120
"""Seconds of history the campaign's sending may take (the channel allows 20 sends a second:
what is over is deferred to the next second and sent by the deferred loop)."""


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
    campaign_recipients: int = 0

    def summary(self) -> str:
        """One line for the demo's output."""
        campaign = (
            f", 1 finished campaign to {self.campaign_recipients} tea-club members with a holdout"
            if self.campaign_recipients
            else ""
        )
        return (
            f"demo history {self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}: {self.contacts} contacts, "
            f"{self.messages} messages through the pipeline, {self.handoffs} rated hand-offs, "
            f"{self.orders} orders, {self.refunds} refunds, {self.signups} sign-ups{campaign}"
        )


Progress = Callable[[int], None]
"""Told how many more of :func:`history_size`'s items were stored."""


def history_for(now: datetime) -> History:
    """The demo history ending at ``now``."""
    return generate(now, demo_questions())


def history_size(history: History) -> int:
    """How many items seeding ``history`` stores (for a progress bar)."""
    return len(history.steps) + len(history.events) + _campaign_orders_expected(history.campaign)


def _campaign_orders_expected(campaign: DemoCampaign | None) -> int:
    if campaign is None:
        return 0
    held = holdout_size(len(campaign.subscribers), CAMPAIGN_HOLDOUT)
    treated = len(campaign.subscribers) - held
    return int(TREATMENT_RATE * treated + Fraction(1, 2)) + int(
        HOLDOUT_RATE * held + Fraction(1, 2)
    )


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
        later: list[ShopEvent] = []  # the campaign's orders, once its holdout is known
        for item in _timeline(history):
            at = _time_of(item)
            due = [e for e in later if e.occurred_at <= at]
            if due:
                later = [e for e in later if e.occurred_at > at]
                await seeder.events(due)
            if isinstance(item, ChatStep):
                await seeder.step(item)
            elif isinstance(item, DemoCampaign):
                later = sorted([*later, *await seeder.campaign(item)], key=lambda e: e.occurred_at)
            else:
                await seeder.events(item)
        if later:
            await seeder.events(later)
        await _declare_demo_follow_ups(c, tenant, clock.now())
    campaign = history.campaign
    return SeedReport(
        start=history.start,
        end=history.end,
        contacts=len(history.contacts),
        messages=sum(1 for s in history.steps if s.kind is StepKind.SAY),
        handoffs=history.ratings,
        orders=sum(1 for e in history.events if e.type == "order"),
        refunds=sum(1 for e in history.events if e.type == "refund"),
        signups=sum(1 for e in history.events if e.type == "signup"),
        campaign_recipients=len(campaign.subscribers) if campaign is not None else 0,
    )


DEMO_SEGMENT = "repeat-buyers"
DEMO_JOURNEY = "brewing-tips"
BREWING_TIPS = "您的茶到了吗？冲泡小贴士：白茶 90°C，第一泡 20 秒，之后每泡加 10 秒。回复 TD 退订。"


async def _declare_demo_follow_ups(c: Container, tenant: TenantRecord, now: datetime) -> None:
    """A saved segment (contacts with two orders or more) and a journey — three days
    after an order, brewing tips to members of the tea club's topic who are in that
    segment — so the demo's segments and journeys pages have something real."""
    definition = parse_definition({"all_of": [{"orders": {"min": 2}}]})
    await create_segment(c.store, tenant, DEMO_SEGMENT, definition, actor="demo", now=now)
    await c.journeys.declare(
        tenant.id,
        journey_definition(
            name=DEMO_JOURNEY,
            trigger=TriggerKind.EVENT,
            trigger_value="order",
            delay="3d",
            topic=CAMPAIGN_TOPIC,
            segment=DEMO_SEGMENT,
            text=BREWING_TIPS,
        ),
    )


def _time_of(item: ChatStep | DemoCampaign | tuple[ShopEvent, ...]) -> datetime:
    if isinstance(item, ChatStep | DemoCampaign):
        return item.at
    return item[0].occurred_at


def _timeline(history: History) -> Iterator[ChatStep | DemoCampaign | tuple[ShopEvent, ...]]:
    """Steps, the campaign and events merged by time; consecutive events as one batch."""
    moments: list[ChatStep | DemoCampaign] = list(history.steps)
    if history.campaign is not None:
        at = history.campaign.at
        index = next((i for i, s in enumerate(history.steps) if s.at >= at), len(moments))
        moments.insert(index, history.campaign)
    events = list(history.events)
    batch: list[ShopEvent] = []
    position = 0
    for moment in moments:
        while position < len(events) and events[position].occurred_at <= moment.at:
            batch.append(events[position])
            position += 1
            if len(batch) == EVENT_BATCH:
                yield tuple(batch)
                batch = []
        if batch:
            yield tuple(batch)
            batch = []
        yield moment
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

    async def campaign(self, campaign: DemoCampaign) -> tuple[ShopEvent, ...]:
        """Tag the tea club, create the campaign (holdout recorded), send it through the
        guard as the worker does, deliver it; the orders its arms then place."""
        self._clock.move_to(campaign.at)
        channel_id = public_channel_id(self._tenant.slug, "web")
        async with self._c.store.transaction() as tx:
            channel = await tx.channels.get_by_public_id(channel_id)
            assert channel is not None
            for subscriber in campaign.subscribers:
                contact = await tx.contacts.find(channel.id, subscriber)
                if contact is not None:
                    await tx.tags.add(self._tenant.id, contact.id, CAMPAIGN_TAG)
        draft = CampaignDraft(
            name=CAMPAIGN_NAME,
            topic=CAMPAIGN_TOPIC,
            audience=AudienceSpec(tag=CAMPAIGN_TAG),
            variants=tuple(Variant(name, text) for name, text in CAMPAIGN_VARIANTS),
            holdout_share=CAMPAIGN_HOLDOUT,
            attribution_days=CAMPAIGN_WINDOW_DAYS,
        )
        created = await self._c.campaigns.create(self._tenant.slug, draft, created_by=ACTOR)
        for _ in range(CAMPAIGN_SECONDS):  # the worker's passes and the deferred loop, in time
            await self._c.campaign_delivery.run_once()
            await run_due_deferred(self._c.store, self._c.clock, self._c.proactive)
            while await self._c.outbox_worker.run_once():
                pass
            shown, _ = await self._c.campaigns.get(self._tenant.slug, created.campaign.id)
            if shown.status is CampaignStatus.FINISHED:
                break
            self._clock.move_to(self._clock.now() + timedelta(seconds=1))
        held_out: set[str] = set()
        async with self._c.store.transaction(readonly=True) as tx:
            for recipient in await tx.campaigns.recipients(created.campaign.id):
                if recipient.arm is Arm.HOLDOUT:
                    contact = await tx.contacts.get(recipient.contact_id)
                    if contact is not None:
                        held_out.add(contact.external_id)
        return campaign.orders(held_out)

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
