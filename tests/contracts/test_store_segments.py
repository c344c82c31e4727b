"""Segments evaluated in SQL on every backend, against hand-built members.

The shop (``acme``) is in Asia/Taipei (UTC+8). ``NOW`` is 2027-02-15 12:00 local.
Who is who (times local; "−Nd" = N × 24 h before NOW):

* A — web; tags vip, tea; consents to ``care``; inbound −5d; orders 100.00 (−10d)
  and 50.00 (−40d = 2027-01-06, its first activity), refund 30.00 (−8d):
  2 orders, revenue 120.00; RFM r5 f2 m2.
* B — web; tag vip; consented to ``care`` and withdrew; order 600.00 −100d
  (2026-11-07, first seen), inbound −40d: 1 order, revenue 600.00; r2 f1 m3.
* C — oa, created by an event (source ``event``); tag tea; consents to ``care``
  but opted out by message; 10 orders of 600.00 (−1d … −10d): revenue
  6,000.00; r5 f5 m5; first seen 2027-02-05.
* D — web; nothing at all (0 orders, revenue 0, never seen).
* E — oa; tag blocked; one inbound message 2027-01-01 00:30 local (= 2026-12-31
  16:30 UTC: by UTC date it is still December).
* F — web, created by an event; signup 2026-12-31 23:30 local (= 15:30 UTC, its
  first activity: December locally too); order 80.00 on 2027-01-05 refunded
  in full 2027-01-06: 1 order, revenue 0.00; r4 f1 m1.

Another tenant's contact X matches almost everything and must never appear.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.analytics import NewBusinessEvent
from kindbot.core.records.conversations import ContactRecord, ContactSource
from kindbot.core.records.directory import AttributeChange, AttributeDefinition, AttributeType
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord
from kindbot.ops.segments import (
    create_segment,
    is_member,
    member_id_chunks,
    preview_definition,
    segment_audience,
    segment_checker,
)
from kindbot.segments.codec import InvalidSegmentError, parse_definition
from kindbot.segments.resolve import resolve
from tests.contracts.builders import Party, make_channel, make_tenant, store_inbound
from tests.support.clock import FakeClock

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2027, 2, 15, 12, 0, tzinfo=TAIPEI).astimezone(UTC)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TAIPEI).astimezone(UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


class Shop:
    def __init__(self, tenant: TenantRecord, web: ChannelRecord, oa: ChannelRecord) -> None:
        self.tenant, self.web, self.oa = tenant, web, oa
        self.people: dict[str, ContactRecord] = {}
        self.seq = 0

    async def person(
        self, tx: Transaction, name: str, channel: ChannelRecord, *, by_event: bool = False
    ) -> ContactRecord:
        if by_event:
            ids = await tx.contacts.ensure_many(
                tenant_id=self.tenant.id,
                channel_id=channel.id,
                external_ids=[name],
                source=ContactSource.EVENT,
                now=local("2026-10-01 00:00"),
            )
            found = await tx.contacts.get(ids[name])
            assert found is not None
        else:
            found = await tx.contacts.get_or_create(
                tenant_id=self.tenant.id,
                channel_id=channel.id,
                external_id=name,
                display_name=f"Person {name}",
                now=local("2026-10-01 00:00"),
            )
        self.people[name] = found
        return found

    async def inbound(self, tx: Transaction, name: str, at: datetime) -> None:
        contact = self.people[name]
        channel = self.web if contact.channel_id == self.web.id else self.oa
        conversation = await tx.conversations.get_or_open(
            tenant_id=self.tenant.id, channel_id=channel.id, contact_id=contact.id, now=at
        )
        self.seq += 1
        party = Party(self.tenant, channel, contact, conversation)
        await store_inbound(tx, party, f"m{self.seq}", received_at=at)

    async def event(
        self, tx: Transaction, name: str, kind: str, at: datetime, amount: int | None = None
    ) -> None:
        contact = self.people[name]
        self.seq += 1
        event = NewBusinessEvent(
            event_id=f"e{self.seq}",
            type=kind,
            occurred_at=at,
            contact_id=contact.id,
            channel_id=contact.channel_id,
            amount_minor=amount,
            currency="CNY" if amount is not None else None,
            order_id=None,
            properties_json=None,
        )
        await tx.events.insert_new(self.tenant.id, [event], at)

    async def consent(self, tx: Transaction, name: str, topic: str) -> None:
        contact = self.people[name]
        await tx.consents.grant(
            tenant_id=self.tenant.id,
            contact_id=contact.id,
            channel_id=contact.channel_id,
            topic=topic,
            source="test",
            wording="yes please",
            now=local("2026-10-02 09:00"),
        )

    async def tag(self, tx: Transaction, name: str, *tags: str) -> None:
        for tag in tags:
            await tx.tags.add(self.tenant.id, self.people[name].id, tag)


async def build(store: Store) -> Shop:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx, "acme")
        web, oa = await make_channel(tx, tenant, "web"), await make_channel(tx, tenant, "oa")
        shop = Shop(tenant, web, oa)

        await shop.person(tx, "A", web)
        await shop.tag(tx, "A", "vip", "tea")
        await shop.consent(tx, "A", "care")
        await shop.inbound(tx, "A", ago(5))
        await shop.event(tx, "A", "order", ago(40), 5000)
        await shop.event(tx, "A", "order", ago(10), 10000)
        await shop.event(tx, "A", "refund", ago(8), 3000)

        await shop.person(tx, "B", web)
        await shop.tag(tx, "B", "vip")
        await shop.consent(tx, "B", "care")
        await tx.consents.withdraw(shop.people["B"].id, "care", local("2026-12-01 00:00"))
        await shop.event(tx, "B", "order", ago(100), 60000)
        await shop.inbound(tx, "B", ago(40))

        await shop.person(tx, "C", oa, by_event=True)
        await shop.tag(tx, "C", "tea")
        await shop.consent(tx, "C", "care")
        await tx.contacts.set_opted_out(shop.people["C"].id, local("2027-02-10 00:00"))
        for day in range(1, 11):
            await shop.event(tx, "C", "order", ago(day), 60000)

        await shop.person(tx, "D", web)

        await shop.person(tx, "E", oa)
        await shop.tag(tx, "E", "blocked")
        await shop.inbound(tx, "E", local("2027-01-01 00:30"))

        await shop.person(tx, "F", web, by_event=True)
        await shop.event(tx, "F", "signup", local("2026-12-31 23:30"))
        await shop.event(tx, "F", "order", local("2027-01-05 10:00"), 8000)
        await shop.event(tx, "F", "refund", local("2027-01-06 10:00"), 8000)
        for name in "ABCDEF":
            await shop.tag(tx, name, "shop")

        other = await make_tenant(tx, "other")
        other_web = await make_channel(tx, other, "web")
        outsider = Shop(other, other_web, other_web)
        await outsider.person(tx, "X", other_web)
        await outsider.tag(tx, "X", "vip", "tea", "shop")
        await outsider.consent(tx, "X", "care")
        await outsider.inbound(tx, "X", ago(1))
        for day in (2, 3):
            await outsider.event(tx, "X", "order", ago(day), 100000)
    return shop


CASES: list[tuple[list[object], str]] = [
    ([], "ABCDEF"),
    ([{"tags": {"all": ["vip"]}}], "AB"),
    ([{"tags": {"all": ["vip", "tea"]}}], "A"),
    ([{"tags": {"any": ["tea", "blocked"]}}], "ACE"),
    ([{"tags": {"none": ["vip"]}}], "CDEF"),
    ([{"tags": {"none": ["shop"]}}], ""),
    ([{"tags": {"any": ["tea"], "none": ["vip"]}}], "C"),
    ([{"channel": ["oa"]}], "CE"),
    ([{"channel": ["web", "oa"]}], "ABCDEF"),
    ([{"consent": "care"}], "A"),
    ([{"consent": "news"}], ""),
    ([{"last_inbound": {"within_days": 30}}], "A"),
    ([{"last_inbound": {"within_days": 41}}], "AB"),
    ([{"last_inbound": {"not_within_days": 30}}], "BCDEF"),
    # local dates: E's message is 2027-01-01 locally (Dec 31 in UTC); F's signup Dec 31
    ([{"first_seen": {"from": "2027-01-01", "to": "2027-02-01"}}], "AE"),
    ([{"first_seen": {"to": "2027-01-01"}}], "BF"),
    ([{"first_seen": {"from": "2027-01-01"}}], "ACE"),
    ([{"first_seen": {"from": "2026-12-31", "to": "2027-01-01"}}], "F"),
    ([{"orders": {"min": 2}}], "AC"),
    ([{"orders": {"max": 1}}], "BDEF"),
    ([{"orders": {"min": 1, "max": 1}}], "BF"),
    ([{"orders": {"min": 0}}], "ABCDEF"),
    # revenue = orders − refunds: A 120.00 (150 − 30), F 0.00 (80 − 80)
    ([{"revenue": {"min": "100.00"}}], "ABC"),
    ([{"revenue": {"max": "0"}}], "DEF"),
    ([{"revenue": {"max": "120.00"}}], "ADEF"),
    ([{"revenue": {"min": "120.01"}}], "BC"),
    ([{"revenue": {"min": "120", "max": "600"}}], "AB"),
    ([{"last_order": {"within_days": 30}}], "AC"),
    ([{"last_order": {"before_days": 30}}], "BF"),
    ([{"rfm": {"r": [5, 5]}}], "AC"),
    ([{"rfm": {"r": [2, 2]}}], "B"),
    ([{"rfm": {"r": [4, 4]}}], "F"),
    ([{"rfm": {"r": [3, 3]}}], ""),
    ([{"rfm": {"r": [1, 5]}}], "ABCF"),
    ([{"rfm": {"f": [5, 5]}}], "C"),
    ([{"rfm": {"f": [1, 1]}}], "BF"),
    ([{"rfm": {"f": [2, 4]}}], "A"),
    ([{"rfm": {"m": [1, 1]}}], "F"),
    ([{"rfm": {"m": [2, 2]}}], "A"),
    ([{"rfm": {"m": [3, 4]}}], "B"),
    ([{"rfm": {"m": [5, 5]}}], "C"),
    ([{"rfm": {"r": [4, 5], "f": [2, 5]}}], "AC"),
    ([{"source": ["event"]}], "CF"),
    ([{"source": ["message"]}], "ABDE"),
    ([{"any_of": [{"channel": ["oa"]}, {"tags": {"any": ["vip"]}}]}], "ABCE"),
    (
        [
            {"any_of": [{"orders": {"min": 5}}, {"last_inbound": {"within_days": 30}}]},
            {"tags": {"any": ["tea"]}},
        ],
        "AC",
    ),
    ([{"any_of": [{"revenue": {"max": "0"}}, {"rfm": {"f": [5, 5]}}]}], "CDEF"),
    (
        [
            {"tags": {"all": ["vip"]}},
            {"consent": "care"},
            {"orders": {"min": 2}},
            {"last_inbound": {"within_days": 30}},
        ],
        "A",
    ),
]


EVERYONE = {"tags": {"all": ["shop"]}}
"""A tag all six have: a condition that picks the candidates first (repos_segments.members),
so every case runs both ways."""


@pytest.mark.parametrize("driver", [[], [EVERYONE]], ids=["alone", "with-candidates"])
async def test_each_condition_selects_the_hand_computed_members(
    store: Store, driver: list[object]
) -> None:
    shop = await build(store)
    names = {contact.id: name for name, contact in shop.people.items()}
    wrong: dict[str, tuple[str, str]] = {}
    for conditions, expected in CASES:
        definition = parse_definition({"all_of": [*driver, *conditions]})
        preview = await preview_definition(store, shop.tenant, definition, now=NOW, sample=10)
        got = "".join(sorted(names.get(m.contact_id, "?") for m in preview.sample))
        async with store.transaction(readonly=True) as tx:
            query = resolve(
                definition, tenant_id=shop.tenant.id, now=NOW, zone=TAIPEI, currency="CNY"
            )
            one_by_one = ""
            for name, contact in sorted(shop.people.items()):
                if await tx.segments.has_member(query, contact.id):
                    one_by_one += name
        if got != expected or preview.count != len(expected) or one_by_one != expected:
            wrong[json.dumps(conditions)] = (expected, f"{got} / {one_by_one} ({preview.count})")
    assert wrong == {}


async def test_a_sample_is_the_first_members_by_id_with_name_and_channel(store: Store) -> None:
    shop = await build(store)
    definition = parse_definition({"all_of": [{"tags": {"any": ["vip", "tea", "blocked"]}}]})

    preview = await preview_definition(store, shop.tenant, definition, now=NOW, sample=2)

    members = sorted(
        (c.id, c.display_name, "web" if c.channel_id == shop.web.id else "oa")
        for n, c in shop.people.items()
        if n in "ABCE"
    )
    assert preview.count == 4
    assert [(m.contact_id, m.display_name, m.channel) for m in preview.sample] == members[:2]


async def test_member_ids_come_in_chunks_in_id_order_and_make_an_audience(store: Store) -> None:
    shop = await build(store)
    definition = parse_definition({"all_of": [{"orders": {"max": 1}}]})
    chunks = [
        chunk async for chunk in member_id_chunks(store, shop.tenant, definition, now=NOW, chunk=3)
    ]
    expected = sorted(shop.people[n].id for n in "BDEF")
    assert chunks == [expected[:3], expected[3:]]

    await create_segment(store, shop.tenant, "few-orders", definition, actor="test", now=NOW)
    audience = await segment_audience(store, shop.tenant, "few-orders", now=NOW)
    assert audience.contact_ids == tuple(expected)
    assert await is_member(store, shop.tenant, "few-orders", shop.people["B"].id, now=NOW)
    assert not await is_member(store, shop.tenant, "few-orders", shop.people["A"].id, now=NOW)
    check = segment_checker(store, FakeClock(NOW))
    assert await check(shop.tenant.id, "few-orders", shop.people["D"].id)
    assert not await check(shop.tenant.id, "few-orders", shop.people["C"].id)
    assert not await check(shop.tenant.id, "no-such-segment", shop.people["D"].id)
    assert not await check("no-such-tenant", "few-orders", shop.people["D"].id)


async def test_an_unknown_channel_is_refused_with_its_path(store: Store) -> None:
    shop = await build(store)
    definition = parse_definition(
        {"all_of": [{"any_of": [{"channel": ["web"]}, {"channel": ["sms"]}]}]}
    )
    with pytest.raises(InvalidSegmentError) as caught:
        await preview_definition(store, shop.tenant, definition, now=NOW)
    assert caught.value.details() == {
        "problems": [
            {"path": "all_of[0].any_of[1].channel", "reason": "the tenant has no channel 'sms'"}
        ]
    }


async def test_attribute_conditions_compare_in_the_column_of_the_declared_type(
    store: Store,
) -> None:
    shop = await build(store)
    declared = [
        AttributeDefinition("city", AttributeType.TEXT, "City"),
        AttributeDefinition("vip_level", AttributeType.NUMBER, "VIP level"),
        AttributeDefinition("birthday", AttributeType.DATE, "Birthday"),
        AttributeDefinition("wholesale", AttributeType.BOOL, "Wholesale"),
    ]
    values = {
        "A": [("city", "杭州"), ("vip_level", Decimal("2.5")), ("wholesale", True)],
        "B": [("city", "上海"), ("vip_level", Decimal("10")), ("birthday", date(1990, 3, 1))],
        "C": [("vip_level", Decimal("2.4999")), ("wholesale", False)],
    }
    types = {d.name: d.type for d in declared}
    async with store.transaction() as tx:
        await tx.attributes.replace_definitions(shop.tenant.id, declared)
        for name, pairs in values.items():
            changes = [AttributeChange(a, types[a], v) for a, v in pairs]
            await tx.attributes.apply(shop.tenant.id, shop.people[name].id, changes, NOW)

    async def who(condition: dict[str, object]) -> set[str]:
        definition = parse_definition({"all_of": [{"attribute": condition}]})
        preview = await preview_definition(store, shop.tenant, definition, now=NOW)
        ids = {contact.id: name for name, contact in shop.people.items()}
        return {ids[m.contact_id] for m in preview.sample}

    assert await who({"name": "city", "op": "eq", "value": "杭州"}) == {"A"}
    assert await who({"name": "city", "op": "ne", "value": "杭州"}) == {"B"}  # has one, differs
    assert await who({"name": "vip_level", "op": "gte", "value": Decimal("2.5")}) == {"A", "B"}
    assert await who({"name": "vip_level", "op": "lt", "value": Decimal("2.5")}) == {"C"}
    assert await who({"name": "birthday", "op": "lt", "value": "1991-01-01"}) == {"B"}
    assert await who({"name": "wholesale", "op": "eq", "value": False}) == {"C"}
    assert await who({"name": "birthday", "op": "set"}) == {"B"}
    assert len(await who({"name": "city", "op": "unset"})) == len(shop.people) - 2

    for bad, reason in [
        ({"name": "shoe_size", "op": "eq", "value": Decimal(42)}, "not a declared attribute"),
        ({"name": "city", "op": "gt", "value": "2020-01-01"}, "does not apply to a text"),
        ({"name": "vip_level", "op": "eq", "value": "gold"}, "attribute vip_level"),
    ]:
        definition = parse_definition({"all_of": [{"attribute": bad}]})
        with pytest.raises(InvalidSegmentError, match=reason):
            await preview_definition(store, shop.tenant, definition, now=NOW)
        with pytest.raises(InvalidSegmentError):
            await create_segment(store, shop.tenant, "x", definition, actor="test", now=NOW)
    async with store.transaction(readonly=True) as tx:
        assert await tx.segments.of_tenant(shop.tenant.id) == []


async def test_saved_segments_are_unique_per_tenant_and_round_trip(store: Store) -> None:
    async with store.transaction() as tx:
        first = await make_tenant(tx, "acme")
        second = await make_tenant(tx, "other")
        one = await tx.segments.create(first.id, "vip", '{"all_of":[]}', "admin", NOW)
        again = await tx.segments.create(first.id, "vip", '{"all_of":[1]}', "admin", NOW)
        elsewhere = await tx.segments.create(second.id, "vip", '{"all_of":[]}', "key:x", NOW)
    assert one is not None
    assert one.name == "vip"
    assert one.created_by == "admin"
    assert one.created_at == NOW == one.updated_at
    assert again is None
    assert elsewhere is not None
    assert elsewhere.tenant_id == second.id
    later = NOW + timedelta(hours=1)
    async with store.transaction() as tx:
        updated = await tx.segments.update(first.id, "vip", '{"all_of":[2]}', later)
        missing = await tx.segments.update(first.id, "nope", "{}", later)
        assert updated is not None
        assert updated.definition_json == '{"all_of":[2]}'
        assert updated.updated_at == later
        assert updated.created_at == NOW
        assert missing is None
        assert [s.name for s in await tx.segments.of_tenant(first.id)] == ["vip"]
        assert await tx.segments.delete(first.id, "vip") is True
        assert await tx.segments.delete(first.id, "vip") is False
        assert await tx.segments.get(first.id, "vip") is None
        assert await tx.segments.get(second.id, "vip") is not None


def test_money_bounds_stay_exact() -> None:
    definition = parse_definition({"all_of": [{"revenue": {"min": Decimal("0.10")}}]})
    assert (
        definition.conditions[0]
        == parse_definition({"all_of": [{"revenue": {"min": "0.1"}}]}).conditions[0]
    )
