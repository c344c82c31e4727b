"""The demo shop's past: ~12 weeks of contacts, conversations and business events.

:func:`generate` is pure and seeded: the same ``now``, questions and seed give
the same :class:`History`, record for record. It decides what happened; the
seeder (:mod:`kindbot.demo.seeding`) replays it through the real paths — the
pipeline for what contacts say, the inbox for what the agent does,
``ops.events.record_events`` for the shop's facts — each at its own time.

What the history looks like (tuned so the dashboard's overview shows the
shapes a tea shop would see; ``tests/unit/test_demo_history.py`` holds it to them):

* ~280 contacts arrive over the weeks (a little more often lately), two in
  three on the web chat (``web``), the rest through the shop's member system
  on the webhook (``hook``). Most start by asking the bot something (questions
  of the demo knowledge base, a few it cannot answer); some only sign up.
* About a quarter order within 30 days of first contact; about a third of the
  buyers order again within 90 days (a fifth within the history's weeks); one
  order in twenty is refunded (in full or in part, a few days later). Orders
  cost ¥38–¥680.
* Contacts come back to chat in later weeks less and less often (weekly
  retention decays), and now and then one asks for a person (「人工」): an
  agent claims, answers and resolves the conversation and the contact rates
  it 1–5. Hand-offs happen on the web chat only.

* Three weeks before ``now`` the shop ran one campaign with a holdout
  (:class:`DemoCampaign`): the day before, some web chat visitors joined its
  tea club by sending 「订阅」 themselves (the only consent in the history,
  recorded from their own words); the campaign went to them with a 20 %
  holdout, and within its 7-day window about three in ten of the messaged
  ordered against one in ten of the held out. Who is held out is chosen when
  the seeder creates the campaign (from the campaign's id), so those orders are
  decided then, by :meth:`DemoCampaign.orders`, from draws made here.

Everything happens strictly before ``now``; nothing is ever sent to anyone
outside kindbot.
"""

from __future__ import annotations

import csv
import enum
import io
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from importlib import resources

SEED = 16
"""The demo's seed (the issue that asked for the history)."""

WEEKS = 12
CONTACTS = 280
WEB_SHARE = 0.65
SIGNUP_ONLY_SHARE = 0.15
"""Contacts whose first activity is a sign-up, not a question."""
LATER_SIGNUP_SHARE = 0.3
CONVERT_SHARE = 0.27
"""Contacts whose first order comes within 30 days of first contact."""
LATE_CONVERT_SHARE = 0.04
"""Contacts whose first order comes 31–60 days after first contact."""
REPEAT_SHARE = 0.35
THIRD_ORDER_SHARE = 0.35
REFUND_SHARE = 0.05
RETURN_FIRST_WEEK = 0.3
RETURN_DECAY = 0.72
"""A contact chats again in week k ≥ 1 after arrival with chance
``RETURN_FIRST_WEEK × RETURN_DECAY^(k-1)``."""
HANDOFF_SHARE = 0.06
"""Of the web chat's visits, those that end with a request for a person."""
UNANSWERED_SHARE = 0.15

PRICES = (38, 58, 68, 88, 98, 128, 168, 198, 268, 328, 480, 680)
"""What a tea shop's orders cost (CNY): sample packs to gift boxes."""
PRICE_WEIGHTS = (8, 10, 10, 12, 12, 14, 10, 8, 6, 4, 3, 2)
MIN_PRICE, MAX_PRICE = Decimal(min(PRICES)), Decimal(max(PRICES))

UNANSWERABLE = (
    "你们有实体店吗？",
    "可以刻字定制茶罐吗",
    "明年的明前龙井能预订吗？",
    "茶叶有农残检测报告吗",
    "你们老板是哪里人",
    "do you have a shop in Shanghai?",
)
"""Questions the demo knowledge base has no entry for (the bot clarifies or falls back)."""
RETURNING = ("怎么查物流？", "我的快递到哪了", "退款多久到账？", "茶叶怎么保存？", "还有试饮装吗")
HANDOFF_WORDS = "人工"
AGENT_REPLY = "您好，我是山间茶舍的茶艺顾问，已经为您处理好了，有问题随时找我们。"
RATINGS = (5, 4, 3, 2, 1)
RATING_WEIGHTS = (50, 30, 12, 5, 3)
LOCAL_OFFSET = timedelta(hours=8)
"""The shop's time zone (Asia/Shanghai, no daylight saving): visits follow its day."""
CAMPAIGN_DAYS_AGO = 21
CAMPAIGN_LOCAL_HOUR = 10
CAMPAIGN_SUBSCRIBERS = 60
CLUB_RECENT_WEEKS = 6
"""The tea club's members are visitors first seen in these weeks before the campaign."""
CAMPAIGN_TOPIC = "general"
"""The topic the opt-in keyword grants (``pipeline.receive.inbound_actions.OPT_IN_TOPIC``)."""
SUBSCRIBE_WORD = "订阅"
CAMPAIGN_NAME = "茶友会 · 老白茶上新"
CAMPAIGN_TAG = "tea-club"
CAMPAIGN_VARIANTS = (
    ("A", "茶友会专享：福鼎老白茶上新，首单九折。"),
    ("B", "冬日暖茶推荐：福鼎老白茶到店，茶友首单九折。"),
)
CAMPAIGN_HOLDOUT = 0.2
CAMPAIGN_WINDOW_DAYS = 7
TREATMENT_RATE = Fraction(3, 10)
HOLDOUT_RATE = Fraction(1, 10)
"""Shares of each arm that order within the campaign's window (exact counts, rounded)."""
HOUR_WEIGHTS = {
    **{9: 4, 10: 6, 11: 6, 12: 5, 13: 5, 14: 6, 15: 6, 16: 5, 17: 4},
    **{19: 5, 20: 8, 21: 9, 22: 6},
}
"""How often visits begin in each local hour (evenings are busiest)."""


class StepKind(enum.Enum):
    """What happens in one step of a conversation."""

    SAY = "say"
    """The contact sends ``text``."""
    CLAIM = "claim"
    """The agent claims the contact's handed-off conversation."""
    REPLY = "reply"
    """The agent answers ``text``."""
    RESOLVE = "resolve"
    """The agent resolves it (the contact is asked for a rating)."""


@dataclass(frozen=True, slots=True)
class ChatStep:
    """One step of a conversation, at its time (UTC)."""

    at: datetime
    channel: str
    contact: str
    kind: StepKind
    text: str = ""


@dataclass(frozen=True, slots=True)
class ShopEvent:
    """One business event, as ``ops.events.record_events`` takes it (:meth:`row`)."""

    event_id: str
    type: str
    occurred_at: datetime
    channel: str
    contact: str
    amount: Decimal | None = None
    order_id: str | None = None

    def row(self) -> dict[str, object]:
        """The event in the API's shape."""
        row: dict[str, object] = {
            "event_id": self.event_id,
            "type": self.type,
            "occurred_at": self.occurred_at.isoformat(),
            "channel": self.channel,
            "external_id": self.contact,
        }
        if self.amount is not None:
            row["amount"] = str(self.amount)
        if self.order_id is not None:
            row["order_id"] = self.order_id
        return row


@dataclass(frozen=True, slots=True)
class DemoContact:
    """A contact of the history: its channel, id there, and first activity."""

    channel: str
    external_id: str
    first_seen: datetime


@dataclass(frozen=True, slots=True)
class CampaignOrder:
    """The order of one converting recipient: how long after the send, and its amount (CNY)."""

    after: timedelta
    amount: Decimal


@dataclass(frozen=True, slots=True)
class DemoCampaign:
    """The shop's one campaign: sent at ``at`` to ``subscribers`` (web chat visitors who sent
    「订阅」 the day before), with a holdout; the orders each arm's converters place."""

    at: datetime
    subscribers: tuple[str, ...]
    """External ids, in the order in which they convert (the first of each arm first)."""
    treatment_orders: tuple[CampaignOrder, ...]
    holdout_orders: tuple[CampaignOrder, ...]

    def orders(self, held_out: Collection[str]) -> tuple[ShopEvent, ...]:
        """The campaign's orders once the holdout is known: ``round(30 %)`` of the messaged
        and ``round(10 %)`` of the held out order, each within the 7-day window.

        Pure: the same holdout gives the same events.
        """
        treated = [s for s in self.subscribers if s not in held_out]
        held = [s for s in self.subscribers if s in held_out]
        events: list[ShopEvent] = []
        for who, rate, drawn in (
            (treated, TREATMENT_RATE, self.treatment_orders),
            (held, HOLDOUT_RATE, self.holdout_orders),
        ):
            for contact, order in zip(who[: _round_half_up(rate * len(who))], drawn, strict=False):
                number = len(events) + 1
                events.append(
                    ShopEvent(
                        f"demo-campaign-order-{number:03d}",
                        "order",
                        self.at + order.after,
                        "web",
                        contact,
                        order.amount,
                        f"TC{number:04d}",
                    )
                )
        return tuple(sorted(events, key=lambda e: (e.occurred_at, e.event_id)))


def _round_half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2))


@dataclass(frozen=True, slots=True)
class History:
    """What happened in ``[start, end)``: contacts, chat steps and events, each oldest first,
    and the campaign (None when no visitor could have joined its tea club)."""

    start: datetime
    end: datetime
    contacts: tuple[DemoContact, ...]
    steps: tuple[ChatStep, ...]
    events: tuple[ShopEvent, ...]
    campaign: DemoCampaign | None = None

    @property
    def ratings(self) -> int:
        """How many hand-offs are resolved and rated."""
        return sum(1 for s in self.steps if s.kind is StepKind.RESOLVE)


def demo_questions() -> tuple[str, ...]:
    """The demo knowledge base's questions and their similar phrasings (``faq.csv``)."""
    text = resources.files("kindbot.demo").joinpath("faq.csv").read_text(encoding="utf-8")
    questions: list[str] = []
    for row in csv.DictReader(io.StringIO(text)):
        questions.append(row["question"])
        questions.extend(s for s in row["similar"].split("|") if s)
    return tuple(questions)


def generate(now: datetime, questions: Sequence[str], *, seed: int = SEED) -> History:
    """The demo history of the ``WEEKS`` weeks before ``now`` (timezone-aware).

    Pure: depends on nothing but its arguments. Every record is strictly
    before ``now`` and at or after ``now - WEEKS weeks``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not questions:
        raise ValueError("the history needs questions to ask")
    end = now.astimezone(UTC)
    start = end - timedelta(weeks=WEEKS)
    rng = random.Random(seed)
    builder = _Builder(rng, start, end, tuple(questions))
    for number in range(1, CONTACTS + 1):
        builder.contact(number)
    base = builder.history()
    return _with_campaign(base, random.Random(seed * 7919 + 1))


def _with_campaign(history: History, rng: random.Random) -> History:
    """``history`` plus the campaign and its tea club's 「订阅」 visits the day before.

    Its own random source, so the rest of the history is the same with or
    without it. Subscribers are web chat contacts first seen in the six weeks
    before it (at least two days before), with nothing else happening to them
    from two days before to eight days after (so the campaign's figures are
    its own, and older contacts' weekly returns keep their shape).
    """
    local_day = (history.end - timedelta(days=CAMPAIGN_DAYS_AGO) + LOCAL_OFFSET).replace(
        hour=CAMPAIGN_LOCAL_HOUR, minute=0, second=0, microsecond=0
    )
    at = local_day - LOCAL_OFFSET
    quiet_from, quiet_to = at - timedelta(days=2), at + timedelta(days=CAMPAIGN_WINDOW_DAYS + 1)
    busy = {s.contact for s in history.steps if quiet_from <= s.at < quiet_to}
    busy |= {e.contact for e in history.events if quiet_from <= e.occurred_at < quiet_to}
    eligible = sorted(
        c.external_id
        for c in history.contacts
        if c.channel == "web"
        and at - timedelta(weeks=CLUB_RECENT_WEEKS) <= c.first_seen < quiet_from
        and c.external_id not in busy
    )
    if not eligible:
        return history
    subscribers = tuple(rng.sample(eligible, min(CAMPAIGN_SUBSCRIBERS, len(eligible))))
    joins = [
        ChatStep(
            at - timedelta(minutes=rng.randint(60, 20 * 60)), "web", s, StepKind.SAY, SUBSCRIBE_WORD
        )
        for s in subscribers
    ]

    def drawn() -> tuple[CampaignOrder, ...]:
        return tuple(
            CampaignOrder(
                timedelta(hours=rng.randint(2, 6 * 24 - 1), minutes=rng.randint(0, 59)),
                Decimal(rng.choices(PRICES, PRICE_WEIGHTS)[0]),
            )
            for _ in subscribers
        )

    campaign = DemoCampaign(at, subscribers, drawn(), drawn())
    steps = tuple(sorted([*history.steps, *joins], key=lambda s: s.at))
    return History(history.start, history.end, history.contacts, steps, history.events, campaign)


class _Builder:
    """Accumulates one history; all randomness comes from ``rng``, drawn in a fixed order."""

    def __init__(
        self, rng: random.Random, start: datetime, end: datetime, questions: tuple[str, ...]
    ) -> None:
        self._rng = rng
        self._start = start
        self._end = end
        self._questions = questions
        self._contacts: list[DemoContact] = []
        self._steps: list[ChatStep] = []
        self._events: list[ShopEvent] = []
        self._orders = 0

    def history(self) -> History:
        contacts = sorted(self._contacts, key=lambda c: (c.first_seen, c.external_id))
        steps = sorted(self._steps, key=lambda s: s.at)  # stable: a visit keeps its order
        events = sorted(self._events, key=lambda e: (e.occurred_at, e.event_id))
        return History(self._start, self._end, tuple(contacts), tuple(steps), tuple(events))

    def contact(self, number: int) -> None:
        rng = self._rng
        web = rng.random() < WEB_SHARE
        channel = "web" if web else "hook"
        external_id = (
            f"demo-visitor-{number:04d}-{rng.getrandbits(48):012x}"
            if web
            else f"member-{number:05d}"
        )
        span = (self._end - self._start).total_seconds()
        day = int(span / 86400 * rng.random() ** 0.85)  # a little busier lately
        arrival = self._at_local_hour(self._start + timedelta(days=day))
        if arrival < self._start:  # the first day's early hours are before the history
            arrival += timedelta(days=1)
        if arrival >= self._end:
            return
        self._contacts.append(DemoContact(channel, external_id, arrival))
        if rng.random() < SIGNUP_ONLY_SHARE:
            self._event("signup", arrival, channel, external_id)
        else:
            self._visit(arrival, channel, external_id, first=True)
            if rng.random() < LATER_SIGNUP_SHARE:
                later = arrival + timedelta(minutes=rng.randint(5, 60 * 24 * 3))
                self._event("signup", later, channel, external_id)
        self._returns(arrival, channel, external_id)
        self._orders_of(arrival, channel, external_id)

    def _returns(self, arrival: datetime, channel: str, external_id: str) -> None:
        rng = self._rng
        for week in range(1, WEEKS):
            chance = RETURN_FIRST_WEEK * RETURN_DECAY ** (week - 1)
            if rng.random() < chance:
                offset = timedelta(days=7 * week + rng.randint(0, 6))
                self._visit(self._at_local_hour(arrival + offset), channel, external_id)

    def _orders_of(self, arrival: datetime, channel: str, external_id: str) -> None:
        rng = self._rng
        draw = rng.random()
        if draw < CONVERT_SHARE:
            if rng.random() < 0.4:
                delay = timedelta(minutes=rng.randint(10, 8 * 60))
            else:
                delay = timedelta(days=rng.randint(1, 28), minutes=rng.randint(0, 600))
        elif draw < CONVERT_SHARE + LATE_CONVERT_SHARE:
            delay = timedelta(days=rng.randint(31, 60))
        else:
            return
        first = arrival + delay
        self._order(first, channel, external_id)
        if rng.random() < REPEAT_SHARE:
            second = first + timedelta(days=rng.randint(5, 45), minutes=rng.randint(0, 600))
            self._order(second, channel, external_id)
            if rng.random() < THIRD_ORDER_SHARE:
                third = second + timedelta(days=rng.randint(10, 50))
                self._order(third, channel, external_id)

    def _order(self, at: datetime, channel: str, external_id: str) -> None:
        rng = self._rng
        self._orders += 1
        order_id = f"TS{self._orders:05d}"
        price = Decimal(rng.choices(PRICES, PRICE_WEIGHTS)[0])
        refund = rng.random() < REFUND_SHARE
        refund_at = at + timedelta(days=rng.randint(1, 7), hours=rng.randint(0, 8))
        partial = rng.random() < 0.4
        if not self._event("order", at, channel, external_id, price, order_id):
            return
        if refund:
            amount = (price / 2).quantize(Decimal("1")) if partial else price
            self._event("refund", refund_at, channel, external_id, amount, order_id)

    def _event(
        self,
        kind: str,
        at: datetime,
        channel: str,
        external_id: str,
        amount: Decimal | None = None,
        order_id: str | None = None,
    ) -> bool:
        """Add an event unless it would lie in the future; whether it was added."""
        if at >= self._end:
            return False
        event_id = f"demo-{kind}-{len(self._events) + 1:05d}"
        self._events.append(ShopEvent(event_id, kind, at, channel, external_id, amount, order_id))
        return True

    def _visit(self, at: datetime, channel: str, external_id: str, *, first: bool = False) -> None:
        """The contact's questions, a minute or two apart, and maybe a hand-off."""
        rng = self._rng
        lines: list[str] = []
        for _ in range(rng.choice((1, 1, 2, 2, 3)) if first else rng.choice((1, 1, 1, 2))):
            if rng.random() < UNANSWERED_SHARE:
                lines.append(rng.choice(UNANSWERABLE))
            elif not first and rng.random() < 0.5:
                lines.append(rng.choice(RETURNING))
            else:
                lines.append(rng.choice(self._questions))
        handoff = channel == "web" and rng.random() < HANDOFF_SHARE
        rating = rng.choices(RATINGS, RATING_WEIGHTS)[0]
        steps: list[ChatStep] = []
        when = at
        for line in lines:
            steps.append(ChatStep(when, channel, external_id, StepKind.SAY, line))
            when += timedelta(seconds=rng.randint(40, 150))
        if handoff:
            steps.append(ChatStep(when, channel, external_id, StepKind.SAY, HANDOFF_WORDS))
            when += timedelta(minutes=rng.randint(2, 25))
            steps.append(ChatStep(when, channel, external_id, StepKind.CLAIM))
            when += timedelta(minutes=rng.randint(1, 4))
            steps.append(ChatStep(when, channel, external_id, StepKind.REPLY, AGENT_REPLY))
            when += timedelta(minutes=rng.randint(3, 10))
            steps.append(ChatStep(when, channel, external_id, StepKind.RESOLVE))
            when += timedelta(minutes=rng.randint(1, 5))
            steps.append(ChatStep(when, channel, external_id, StepKind.SAY, str(rating)))
        if when < self._end:  # a visit happens whole or not at all
            self._steps.extend(steps)

    def _at_local_hour(self, day: datetime) -> datetime:
        """A moment of ``day``'s local date at an hour when people shop."""
        rng = self._rng
        local = day + LOCAL_OFFSET
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        hour = rng.choices(tuple(HOUR_WEIGHTS), tuple(HOUR_WEIGHTS.values()))[0]
        moment = midnight + timedelta(hours=hour, minutes=rng.randint(0, 59))
        return moment - LOCAL_OFFSET
