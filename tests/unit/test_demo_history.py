"""The demo shop's history generator: deterministic, inside its 12 weeks, and plausible."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kindbot.demo.history import (
    AGENT_REPLY,
    CAMPAIGN_SUBSCRIBERS,
    CAMPAIGN_WINDOW_DAYS,
    HANDOFF_WORDS,
    RETURNING,
    SUBSCRIBE_WORD,
    UNANSWERABLE,
    WEEKS,
    History,
    StepKind,
    demo_questions,
    generate,
)

NOW = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
QUESTIONS = demo_questions()


@pytest.fixture(scope="module")
def history() -> History:
    return generate(NOW, QUESTIONS)


def test_the_same_input_gives_the_same_history() -> None:
    assert generate(NOW, QUESTIONS) == generate(NOW, QUESTIONS)
    assert generate(NOW, QUESTIONS, seed=1) != generate(NOW, QUESTIONS)


def test_the_questions_are_the_demo_knowledge_bases() -> None:
    assert "运费怎么算？" in QUESTIONS
    assert "包邮吗" in QUESTIONS  # a similar phrasing
    assert "What is your return policy?" in QUESTIONS


@pytest.mark.parametrize(
    ("bad_now", "questions", "message"),
    [
        (datetime(2026, 12, 8, 9, 30), QUESTIONS, "timezone-aware"),
        (NOW, (), "questions"),
    ],
)
def test_bad_input_is_refused(bad_now: datetime, questions: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(bad_now, questions)


@settings(max_examples=15, deadline=None)
@given(
    now=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    seed=st.integers(0, 10_000),
)
def test_every_record_lies_in_the_twelve_weeks_before_now(now: datetime, seed: int) -> None:
    history = generate(now, QUESTIONS, seed=seed)
    assert history.end == now
    assert history.start == now - timedelta(weeks=WEEKS)
    moments = [c.first_seen for c in history.contacts]
    moments += [s.at for s in history.steps] + [e.occurred_at for e in history.events]
    assert all(history.start <= at < history.end for at in moments)
    assert [s.at for s in history.steps] == sorted(s.at for s in history.steps)
    assert [e.occurred_at for e in history.events] == sorted(e.occurred_at for e in history.events)


def test_now_in_another_offset_is_the_same_instant() -> None:
    beijing = NOW.astimezone(timezone(timedelta(hours=8)))
    assert generate(beijing, QUESTIONS) == generate(NOW, QUESTIONS)


def test_counts_are_a_small_shops(history: History) -> None:
    kinds = defaultdict(int)
    for event in history.events:
        kinds[event.type] += 1
    assert 250 <= len(history.contacts) <= 300
    assert 60 <= kinds["order"] <= 200
    assert 1 <= kinds["refund"] <= kinds["order"] // 5
    assert kinds["signup"] >= 50
    assert set(kinds) == {"order", "refund", "signup"}
    assert 400 <= sum(1 for s in history.steps if s.kind is StepKind.SAY) <= 1500
    assert 5 <= history.ratings <= 60
    assert len({e.event_id for e in history.events}) == len(history.events)
    assert {c.channel for c in history.contacts} == {"web", "hook"}


def test_amounts_are_a_tea_shops_and_refunds_reference_earlier_orders(history: History) -> None:
    orders = {e.order_id: e for e in history.events if e.type == "order"}
    assert len(orders) == sum(1 for e in history.events if e.type == "order")  # ids unique
    for event in history.events:
        if event.type == "order":
            assert event.amount is not None
            assert Decimal(38) <= event.amount <= Decimal(680)
        elif event.type == "refund":
            order = orders[event.order_id]
            assert event.contact == order.contact
            assert event.occurred_at > order.occurred_at
            assert event.amount is not None
            assert Decimal(0) < event.amount <= (order.amount or Decimal(0))
        else:
            assert event.amount is None
            assert event.order_id is None


def test_events_have_the_apis_shape(history: History) -> None:
    order = next(e for e in history.events if e.type == "order")
    row = order.row()
    assert row == {
        "event_id": order.event_id,
        "type": "order",
        "occurred_at": order.occurred_at.isoformat(),
        "channel": order.channel,
        "external_id": order.contact,
        "amount": str(order.amount),
        "order_id": order.order_id,
    }
    signup = next(e for e in history.events if e.type == "signup")
    assert set(signup.row()) == {"event_id", "type", "occurred_at", "channel", "external_id"}


def test_contacts_say_only_questions_hand_off_words_and_ratings(history: History) -> None:
    allowed = {*QUESTIONS, *UNANSWERABLE, *RETURNING, HANDOFF_WORDS, "1", "2", "3", "4", "5"}
    allowed.add(SUBSCRIBE_WORD)  # the tea club's members, the day before the campaign
    says = [s.text for s in history.steps if s.kind is StepKind.SAY]
    assert set(says) <= allowed
    assert any(text in UNANSWERABLE for text in says)  # some the bot cannot answer
    assert sum(text in QUESTIONS for text in says) > len(says) // 2


def test_each_hand_off_is_claimed_answered_resolved_and_rated_on_the_web_chat(
    history: History,
) -> None:
    by_contact = defaultdict(list)
    for step in history.steps:
        by_contact[step.contact].append(step)
    handoffs = 0
    for steps in by_contact.values():
        kinds = [s.kind for s in steps]
        for i, step in enumerate(steps):
            if step.kind is StepKind.CLAIM:
                handoffs += 1
                assert steps[i - 1].text == HANDOFF_WORDS
                assert kinds[i + 1 : i + 3] == [StepKind.REPLY, StepKind.RESOLVE]
                assert steps[i + 1].text == AGENT_REPLY
                rating = steps[i + 3]
                assert rating.kind is StepKind.SAY
                assert rating.text in {"1", "2", "3", "4", "5"}
                assert step.channel == "web"
    assert handoffs == history.ratings


def test_conversion_repurchase_and_retention_have_a_shops_shape(history: History) -> None:
    """The issue's definitions, computed by hand on the records (contacts with a full window)."""
    first_seen = {c.external_id: c.first_seen for c in history.contacts}
    orders: dict[str, list[datetime]] = {c: [] for c in first_seen}
    active: dict[str, set[int]] = defaultdict(set)
    for event in history.events:
        if event.type == "order":
            orders[event.contact].append(event.occurred_at)
    moments = [(e.contact, e.occurred_at) for e in history.events]
    moments += [(s.contact, s.at) for s in history.steps if s.kind is StepKind.SAY]
    for contact, at in moments:
        active[contact].add((at - first_seen[contact]).days // 7)

    window = timedelta(days=30)
    cohort = [c for c, seen in first_seen.items() if seen < history.end - window]
    converted = [
        c for c in cohort if any(first_seen[c] <= o < first_seen[c] + window for o in orders[c])
    ]
    assert 0.20 <= len(converted) / len(cohort) <= 0.35

    buyers = [
        c for c, times in orders.items() if times and min(times) < history.end - timedelta(days=45)
    ]
    repeat = [c for c in buyers if len(orders[c]) > 1]
    assert 0.15 <= len(repeat) / len(buyers) <= 0.40

    old = [c for c, seen in first_seen.items() if seen < history.end - timedelta(weeks=9)]
    rates = [sum(1 for c in old if week in active[c]) / len(old) for week in range(9)]
    assert rates[0] == 1.0
    assert 0.15 <= rates[1] <= 0.5
    assert rates[1] > rates[4] > rates[8]


def test_the_campaign_goes_to_the_tea_club_the_day_after_it_joined(history: History) -> None:
    campaign = history.campaign
    assert campaign is not None
    assert campaign.at == datetime(2026, 11, 17, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, 3 weeks ago
    assert len(campaign.subscribers) == len(set(campaign.subscribers)) == CAMPAIGN_SUBSCRIBERS
    joins = [s for s in history.steps if s.text == SUBSCRIBE_WORD]
    assert sorted(s.contact for s in joins) == sorted(campaign.subscribers)
    assert all(
        s.channel == "web" and campaign.at - timedelta(hours=24) < s.at < campaign.at for s in joins
    )
    web = {c.external_id for c in history.contacts if c.channel == "web"}
    assert set(campaign.subscribers) <= web
    window = (campaign.at - timedelta(days=2), campaign.at + timedelta(days=8))
    quiet = [e for e in history.events if e.contact in campaign.subscribers]
    assert not [e for e in quiet if window[0] <= e.occurred_at < window[1]]


def test_the_campaigns_orders_follow_the_arms() -> None:
    campaign = generate(NOW, QUESTIONS).campaign
    assert campaign is not None
    held = set(campaign.subscribers[-12:])
    orders = campaign.orders(held)

    buyers = [e.contact for e in orders]
    assert len(buyers) == len(set(buyers)) == 14 + 1  # round(30 % of 48) + round(10 % of 12)
    assert sum(b in held for b in buyers) == 1
    assert all(
        campaign.at < e.occurred_at < campaign.at + timedelta(days=CAMPAIGN_WINDOW_DAYS)
        for e in orders
    )
    assert all(Decimal(38) <= (e.amount or 0) <= Decimal(680) for e in orders)
    assert len({e.order_id for e in orders}) == len(orders)
    assert orders == campaign.orders(held)
    assert campaign.orders(set()) != orders
