"""Business events and the value metrics on every backend, against hand-computed figures.

The shop (``acme``) is in Asia/Taipei (UTC+8, no daylight saving). The period is
2026-12-28 (Monday, ISO 2026-W53) to 2027-01-11 (14 days, ``to`` excluded): UTC
2026-12-27T16:00Z … 2027-01-10T16:00Z. Its previous period is 2026-12-14 … 12-28.

Who did what (local times):

* A — message 12-20, order o1 100.00 on 12-21 (previous period); refund of o1
  30.00 on 12-29 and order 50.00 on 12-30 (this period). Consent since 12-01,
  opted out by message 01-03.
* B — message 12-28 00:30 (UTC 12-27 16:30: the UTC date is before the period)
  answered by the bot; order 02-01 (past the 30-day conversion window).
* C — signup 01-10 23:30 (last local day); orders 01-15 and 01-20 (after ``to``).
* D — order 01-11 07:30 (= 2027-01-10 23:30 UTC: inside by UTC date, outside locally).
* E — message 12-31, order 200.00 01-02, message 01-05 with a handoff (rated 4),
  order 03-15 (73 days after the first: a repeat within 90).
* F — order 19.99 on 01-05 10:00 (its first activity), next order 04-06 10:00
  (91 days later: not a repeat within 90).
* G — on channel ``oa``: message and order 10.00 on 01-06.

Expected: active 6 (A B C E F G), new 5 (B C E F G), orders 4 (A E F G), revenue
50 + 200 + 19.99 + 10 − 30 = 249.99, value per user 249.99 / 6 = 41.665 → 41.67;
conversion 4/5 (C after ``to``, E, F at first seen, G; not B); repurchase buyers E F G,
repeat E: 1/3; previous: 1 active, 100.00; ratios 6, 0.41665 → 0.4167, 2.4999;
retention W53 = {B, E}: [2, 1] (E active 01-05); W01 = {C, F, G}: [3].
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from kindbot.analytics.periods import Period
from kindbot.analytics.series import SeriesPoint
from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.analytics import MetricsScope, NewBusinessEvent
from kindbot.core.records.conversations import ContactRecord, ContactSource
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord
from kindbot.ops.metrics import channel_breakdown, tenant_metrics, tenant_series
from tests.contracts.builders import Party, make_channel, make_tenant, store_inbound, store_outbound

TAIPEI = ZoneInfo("Asia/Taipei")
PERIOD = Period(date(2026, 12, 28), date(2027, 1, 11))


def local(text: str) -> datetime:
    """A Taipei wall-clock time (``2026-12-28 00:30``) as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=TAIPEI).astimezone(UTC)


class Shop:
    """The tenant, its channels and helpers to add what contacts did."""

    def __init__(self, tenant: TenantRecord, web: ChannelRecord, oa: ChannelRecord) -> None:
        self.tenant, self.web, self.oa = tenant, web, oa
        self.contacts: dict[str, ContactRecord] = {}
        self.seq = 0

    async def contact(self, tx: Transaction, name: str, channel: ChannelRecord) -> ContactRecord:
        if name not in self.contacts:
            ids = await tx.contacts.ensure_many(
                tenant_id=self.tenant.id,
                channel_id=channel.id,
                external_ids=[name],
                source=ContactSource.EVENT,
                now=local("2026-12-01 00:00"),
            )
            found = await tx.contacts.get(ids[name])
            assert found is not None
            self.contacts[name] = found
        return self.contacts[name]

    async def message(
        self, tx: Transaction, name: str, at: str, *, channel: ChannelRecord | None = None
    ) -> Party:
        channel = channel or self.web
        contact = await self.contact(tx, name, channel)
        conversation = await tx.conversations.get_or_open(
            tenant_id=self.tenant.id, channel_id=channel.id, contact_id=contact.id, now=local(at)
        )
        party = Party(self.tenant, channel, contact, conversation)
        self.seq += 1
        await store_inbound(tx, party, f"m{self.seq}", received_at=local(at))
        return party

    async def event(
        self,
        tx: Transaction,
        name: str,
        kind: str,
        at: str,
        amount: int | None = None,
        *,
        channel: ChannelRecord | None = None,
        order_id: str | None = None,
    ) -> None:
        channel = channel or self.web
        contact = await self.contact(tx, name, channel)
        self.seq += 1
        event = NewBusinessEvent(
            event_id=f"e{self.seq}",
            type=kind,
            occurred_at=local(at),
            contact_id=contact.id,
            channel_id=channel.id,
            amount_minor=amount,
            currency="CNY" if amount is not None else None,
            order_id=order_id,
            properties_json=None,
        )
        await tx.events.insert_new(self.tenant.id, [event], local(at))


async def build_shop(store: Store) -> Shop:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx, "acme")
        shop = Shop(
            tenant, await make_channel(tx, tenant, "web"), await make_channel(tx, tenant, "oa")
        )
        a = await shop.message(tx, "A", "2026-12-20 10:00")
        await shop.event(tx, "A", "order", "2026-12-21 12:00", 10000, order_id="o1")
        await shop.event(tx, "A", "refund", "2026-12-29 09:00", 3000, order_id="o1")
        await shop.event(tx, "A", "order", "2026-12-30 09:00", 5000, order_id="o2")
        await tx.consents.grant(
            tenant_id=tenant.id,
            contact_id=a.contact.id,
            channel_id=shop.web.id,
            topic="news",
            source="test",
            wording="tell me",
            now=local("2026-12-01 09:00"),
        )
        await tx.contacts.set_opted_out(a.contact.id, local("2027-01-03 12:00"))

        b = await shop.message(tx, "B", "2026-12-28 00:30")
        inbound = await tx.messages.history_for_contact(b.contact.id, 1)
        await store_outbound(tx, b, reply_to=inbound[0], now=local("2026-12-28 00:31"))
        await shop.event(tx, "B", "order", "2027-02-01 10:00", 1000)

        await shop.event(tx, "C", "signup", "2027-01-10 23:30")
        await shop.event(tx, "C", "order", "2027-01-15 10:00", 1000)
        await shop.event(tx, "C", "order", "2027-01-20 10:00", 1000)

        await shop.event(tx, "D", "order", "2027-01-11 07:30", 1000)

        await shop.message(tx, "E", "2026-12-31 10:00")
        await shop.event(tx, "E", "order", "2027-01-02 10:00", 20000)
        e = await shop.message(tx, "E", "2027-01-05 10:00")
        await shop.event(tx, "E", "order", "2027-03-15 10:00", 1000)
        await tx.handoffs.open(
            tenant_id=tenant.id,
            conversation_id=e.conversation.id,
            contact_id=e.contact.id,
            now=local("2027-01-05 10:01"),
        )
        await tx.handoffs.resolve(e.conversation.id, local("2027-01-05 11:00"), ask_rating=True)
        await tx.handoffs.close_rating(e.conversation.id, 4)

        await shop.event(tx, "F", "order", "2027-01-05 10:00", 1999)
        await shop.event(tx, "F", "order", "2027-04-06 10:00", 1999)

        await shop.message(tx, "G", "2027-01-06 10:00", channel=shop.oa)
        await shop.event(tx, "G", "order", "2027-01-06 11:00", 1000, channel=shop.oa)
    return shop


async def test_the_metrics_document_matches_the_hand_computed_figures(store: Store) -> None:
    shop = await build_shop(store)

    document = await tenant_metrics(store, shop.tenant, PERIOD)

    assert document == {
        "period": {"from": "2026-12-28", "to": "2027-01-11"},
        "users": {"active": 6, "new": 5},
        "orders": 4,
        "revenue": "249.99",
        "value_per_user": "41.67",
        "conversion": {"days": 30, "cohort": 5, "converted": 4, "rate": 0.8},
        "repurchase": {"days": 90, "buyers": 3, "repeat": 1, "rate": 0.3333},
        "previous": {"users_active": 1, "revenue": "100.00", "value_per_user": "100.00"},
        "value_decomposition": {
            "users_ratio": 6.0,
            "value_per_user_ratio": 0.4167,
            "revenue_ratio": 2.4999,
        },
        "retention": [
            {"cohort_week": "2026-W53", "size": 2, "retained": [2, 1], "rates": [1.0, 0.5]},
            {"cohort_week": "2027-W01", "size": 3, "retained": [3], "rates": [1.0]},
        ],
        "conversations": {
            "conversations": 3,
            "bot_answered_share": 0.3333,
            "fallback_share": 0.0,
            "handoff_share": 0.3333,
            "csat": 4.0,
            "csat_ratings": 1,
            "opt_out_rate": 1.0,
            "first_response_median_seconds": None,
            "complaint_rate": 0.0,
        },
    }


async def test_complaints_are_contacts_with_a_complaint_event_over_active_users(
    store: Store,
) -> None:
    shop = await build_shop(store)
    async with store.transaction() as tx:
        # E twice and G once (both already active): 2 of the 6 active users; C's
        # complaint on 01-11 08:00 local is after the period.
        await shop.event(tx, "E", "complaint", "2027-01-07 10:00")
        await shop.event(tx, "E", "complaint", "2027-01-08 10:00")
        await shop.event(tx, "G", "complaint", "2027-01-07 10:00", channel=shop.oa)
        await shop.event(tx, "C", "complaint", "2027-01-11 08:00")

    document = await tenant_metrics(store, shop.tenant, PERIOD)
    on_oa = await tenant_metrics(store, shop.tenant, PERIOD, channel="oa")

    assert document["users"]["active"] == 6
    assert document["conversations"]["complaint_rate"] == 0.3333
    assert on_oa["conversations"]["complaint_rate"] == 1.0


async def test_fallback_share_and_the_agents_first_response(store: Store) -> None:
    shop = await build_shop(store)
    async with store.transaction() as tx:
        b = await shop.message(tx, "B", "2026-12-28 00:40")
        await store_outbound(tx, b, "没听懂", now=local("2026-12-28 00:41"), origin="fallback")
        e = await shop.message(tx, "E", "2027-01-05 10:02")  # E asked for a person at 10:01
        await store_outbound(tx, e, "您好，我是小林", now=local("2027-01-05 10:04"), origin="agent")
        await store_outbound(tx, e, "还有吗", now=local("2027-01-05 10:09"), origin="agent")

    health = (await tenant_metrics(store, shop.tenant, PERIOD))["conversations"]

    assert health["fallback_share"] == 0.3333  # B's of the three conversations (B, E, G)
    assert health["first_response_median_seconds"] == 180.0  # 10:01 → 10:04
    on_oa = (await tenant_metrics(store, shop.tenant, PERIOD, channel="oa"))["conversations"]
    assert (on_oa["fallback_share"], on_oa["first_response_median_seconds"]) == (0.0, None)


async def test_windows_are_parameters(store: Store) -> None:
    shop = await build_shop(store)

    document = await tenant_metrics(
        store, shop.tenant, PERIOD, conversion_days=40, repurchase_days=91
    )

    # B's order on 02-01 is 35 days after first seen; F's next order 91 days minus nothing.
    assert document["conversion"] == {"days": 40, "cohort": 5, "converted": 5, "rate": 1.0}
    assert document["repurchase"] == {"days": 91, "buyers": 3, "repeat": 1, "rate": 0.3333}


async def test_a_channel_limits_every_figure_to_its_contacts(store: Store) -> None:
    shop = await build_shop(store)

    document = await tenant_metrics(store, shop.tenant, PERIOD, channel="oa")

    assert document["users"] == {"active": 1, "new": 1}
    assert (document["orders"], document["revenue"], document["value_per_user"]) == (
        1,
        "10.00",
        "10.00",
    )
    assert document["previous"] == {"users_active": 0, "revenue": "0.00", "value_per_user": "0.00"}
    assert document["value_decomposition"] == {
        "users_ratio": None,
        "value_per_user_ratio": None,
        "revenue_ratio": None,
    }
    assert document["retention"][1]["size"] == 1


async def test_an_empty_period_gives_zeros_and_null_ratios(store: Store) -> None:
    shop = await build_shop(store)

    document = await tenant_metrics(store, shop.tenant, Period(date(2030, 1, 1), date(2030, 1, 8)))

    assert document["users"] == {"active": 0, "new": 0}
    assert (document["orders"], document["revenue"], document["value_per_user"]) == (
        0,
        "0.00",
        "0.00",
    )
    assert document["conversion"]["rate"] is None
    assert document["repurchase"]["rate"] is None
    assert set(document["value_decomposition"].values()) == {None}
    assert document["retention"] == [
        {"cohort_week": "2030-W02", "size": 0, "retained": [0], "rates": [None]}
    ]
    health = document["conversations"]
    assert health["conversations"] == 0
    assert health["bot_answered_share"] is None
    assert health["csat"] is None
    assert health["opt_out_rate"] is None


async def test_another_tenants_events_are_not_counted(store: Store) -> None:
    shop = await build_shop(store)
    async with store.transaction() as tx:
        other = await make_tenant(tx, "other")
        channel = await make_channel(tx, other, "web")
        ids = await tx.contacts.ensure_many(
            tenant_id=other.id,
            channel_id=channel.id,
            external_ids=["A"],
            source=ContactSource.EVENT,
            now=local("2026-12-01 00:00"),
        )
        event = NewBusinessEvent(
            "e1", "order", local("2027-01-02 10:00"), ids["A"], channel.id, 99900, "CNY", None, None
        )
        await tx.events.insert_new(other.id, [event], local("2027-01-02 10:00"))

    mine = await tenant_metrics(store, shop.tenant, PERIOD)
    theirs = await tenant_metrics(store, other, PERIOD)

    assert (mine["orders"], mine["revenue"]) == (4, "249.99")
    assert (theirs["orders"], theirs["revenue"], theirs["users"]) == (
        1,
        "999.00",
        {"active": 1, "new": 1},
    )


async def test_a_repeated_event_id_is_ignored_and_contacts_are_created_once(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx, "acme")
        channel = await make_channel(tx, tenant, "web")
        first = await tx.contacts.ensure_many(
            tenant_id=tenant.id,
            channel_id=channel.id,
            external_ids=["u1", "u2", "u1"],
            source=ContactSource.EVENT,
            now=local("2026-12-01 00:00"),
        )
        again = await tx.contacts.ensure_many(
            tenant_id=tenant.id,
            channel_id=channel.id,
            external_ids=["u2", "u3"],
            source=ContactSource.EVENT,
            now=local("2026-12-01 00:00"),
        )
        event = NewBusinessEvent(
            "x", "order", local("2027-01-02 10:00"), first["u1"], channel.id, 100, "CNY", "1", None
        )
        await tx.events.begin_bulk()
        await tx.events.insert_new(tenant.id, [event], local("2027-01-02 10:00"))
        await tx.events.end_bulk()
        changed = NewBusinessEvent(
            "x", "refund", local("2027-01-03 10:00"), first["u2"], channel.id, 5, "CNY", "1", None
        )
        await tx.events.insert_new(tenant.id, [changed, event], local("2027-01-03 10:00"))

    async with store.transaction(readonly=True) as tx:
        assert await tx.events.count(tenant.id) == 1
        assert await tx.events.existing_ids(tenant.id, ["x", "y"]) == {"x"}
        stored = await tx.events.list_for_contact(first["u1"])
        u3 = await tx.contacts.get(again["u3"])
        active = await tx.metrics.active_contacts(
            MetricsScope(tenant.id), local("2027-01-01 00:00"), local("2027-01-08 00:00")
        )

    assert set(first) == {"u1", "u2"}
    assert again["u2"] == first["u2"]
    assert [(e.type, e.amount_minor, e.occurred_at) for e in stored] == [
        ("order", 100, local("2027-01-02 10:00"))
    ]
    assert u3 is not None
    assert u3.source is ContactSource.EVENT
    assert active == 1


async def test_erasing_a_contact_erases_its_events(store: Store) -> None:
    shop = await build_shop(store)
    amy = shop.contacts["A"]

    async with store.transaction() as tx:
        await tx.contact_data.erase(amy.id)

    async with store.transaction(readonly=True) as tx:
        assert await tx.events.list_for_contact(amy.id) == []
        assert await tx.contacts.get(amy.id) is None
        assert await tx.events.count(shop.tenant.id) == 10  # 13 less A's 3


async def test_iso_weeks_split_at_local_monday_midnight_across_the_year(store: Store) -> None:
    """Sunday 2027-01-03 23:30 and Monday 01-04 00:30 in Taipei are both Sunday in UTC
    (15:30Z, 16:30Z), yet fall in ISO weeks 2026-W53 and 2027-W01."""
    async with store.transaction() as tx:
        tenant = await make_tenant(tx, "acme")
        shop = Shop(
            tenant, await make_channel(tx, tenant, "web"), await make_channel(tx, tenant, "oa")
        )
        await shop.event(tx, "sun", "signup", "2027-01-03 23:30")
        await shop.message(tx, "mon", "2027-01-04 00:30")
        await shop.event(tx, "sun", "visit", "2027-01-04 09:00")

    document = await tenant_metrics(store, tenant, Period(date(2026, 12, 28), date(2027, 1, 11)))

    assert document["retention"] == [
        {"cohort_week": "2026-W53", "size": 1, "retained": [1, 1], "rates": [1.0, 1.0]},
        {"cohort_week": "2027-W01", "size": 1, "retained": [1], "rates": [1.0]},
    ]


def _point(start: str, end: str, active: int, orders: int, revenue: str, vpu: str) -> SeriesPoint:
    return SeriesPoint(
        date.fromisoformat(start), date.fromisoformat(end), active, orders, revenue, vpu
    )


async def test_a_short_period_is_a_daily_series_by_local_date(store: Store) -> None:
    shop = await build_shop(store)

    series = await tenant_series(store, shop.tenant, PERIOD)

    # Only days with activity differ from zero; B's 00:30 local is 12-28 (UTC 12-27), D's
    # order at 07:30 local on 01-11 is past the period; F (order) and E (message) share 01-05.
    busy = {p.start.isoformat(): p for p in series.points if p.active or p.orders}
    assert series.granularity == "day"
    assert len(series.points) == 14
    assert busy == {
        "2026-12-28": _point("2026-12-28", "2026-12-29", 1, 0, "0.00", "0.00"),
        "2026-12-29": _point("2026-12-29", "2026-12-30", 1, 0, "-30.00", "-30.00"),
        "2026-12-30": _point("2026-12-30", "2026-12-31", 1, 1, "50.00", "50.00"),
        "2026-12-31": _point("2026-12-31", "2027-01-01", 1, 0, "0.00", "0.00"),
        "2027-01-02": _point("2027-01-02", "2027-01-03", 1, 1, "200.00", "200.00"),
        "2027-01-05": _point("2027-01-05", "2027-01-06", 2, 1, "19.99", "10.00"),
        "2027-01-06": _point("2027-01-06", "2027-01-07", 1, 1, "10.00", "10.00"),
        "2027-01-10": _point("2027-01-10", "2027-01-11", 1, 0, "0.00", "0.00"),
    }


async def test_a_long_period_is_a_weekly_series_from_monday_to_monday(store: Store) -> None:
    shop = await build_shop(store)

    # Wednesday 12-23 to Wednesday 02-10: a partial first week, Mondays after, a partial last.
    series = await tenant_series(store, shop.tenant, Period(date(2026, 12, 23), date(2027, 2, 10)))

    assert series.granularity == "week"
    assert series.points == (
        _point("2026-12-23", "2026-12-28", 0, 0, "0.00", "0.00"),
        _point("2026-12-28", "2027-01-04", 3, 2, "220.00", "73.33"),
        _point("2027-01-04", "2027-01-11", 4, 2, "29.99", "7.50"),
        _point("2027-01-11", "2027-01-18", 2, 2, "20.00", "10.00"),
        _point("2027-01-18", "2027-01-25", 1, 1, "10.00", "10.00"),
        _point("2027-01-25", "2027-02-01", 0, 0, "0.00", "0.00"),
        _point("2027-02-01", "2027-02-08", 1, 1, "10.00", "10.00"),
        _point("2027-02-08", "2027-02-10", 0, 0, "0.00", "0.00"),
    )


async def test_a_channel_limits_the_series_to_its_contacts(store: Store) -> None:
    shop = await build_shop(store)

    series = await tenant_series(store, shop.tenant, PERIOD, channel="oa")

    busy = [p for p in series.points if p.active or p.orders]
    assert busy == [_point("2027-01-06", "2027-01-07", 1, 1, "10.00", "10.00")]


async def test_the_channel_breakdown_splits_active_users_and_money_by_channel(
    store: Store,
) -> None:
    shop = await build_shop(store)

    shares = await channel_breakdown(store, shop.tenant, PERIOD)

    # web: A (refund, order), B, C (sign-up), E, F; oa: G. 239.99 + 10.00 = the period's 249.99.
    figures = {s.channel: (s.active, s.orders, s.revenue, s.value_per_user) for s in shares}
    assert figures == {
        "web": (5, 3, "239.99", "48.00"),
        "oa": (1, 1, "10.00", "10.00"),
    }
