"""The contact directory on every backend: typed attributes, the contact list's filters,
sorts and keyset pages, and a contact's merged timeline (issue 16 §2).

The shop ``acme`` has two channels (``line`` and ``web``) and these contacts
(times are minutes after ``T0``; money in CNY fen):

====  =======  ===========  ==============  ===================================  ========
name  channel  tags         attributes      activity                             revenue
====  =======  ===========  ==============  ===================================  ========
amy   line     vip          level 3, 1.5 kg  inbound at 10; orders 100.00, 50.00  150.00
bob   line     vip, tea     level 1          order 20.00 at 30, refund 5.00 at 40  15.00
cai   web      tea          level 10         inbound at 50                          0
dan   web      —            —                nothing                                0
====  =======  ===========  ==============  ===================================  ========
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from kindbot.contacts.search import ListParameters, parse_search
from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.analytics import NewBusinessEvent
from kindbot.core.records.directory import (
    AttributeChange,
    AttributeDefinition,
    AttributeType,
    ConsentItem,
    ContactCursor,
    ContactFilter,
    ContactSearch,
    ContactSort,
    DirectoryRow,
    EventItem,
    HandoffItem,
    MessageItem,
    NoteItem,
    ProactiveSendItem,
    TimelineCursor,
    TimelineKind,
)
from kindbot.core.records.handoff import ConversationNote
from kindbot.core.records.tenancy import TenantRecord
from kindbot.storage.sql_store import SqlStore
from tests.contracts.builders import (
    Party,
    at,
    make_party_in,
    store_inbound,
    store_outbound,
)
from tests.support.statements import traced

DEFINITIONS = (
    AttributeDefinition("level", AttributeType.NUMBER, "VIP level"),
    AttributeDefinition("weight", AttributeType.NUMBER, "Weight"),
    AttributeDefinition("birthday", AttributeType.DATE, "Birthday"),
    AttributeDefinition("wholesale", AttributeType.BOOL, "Wholesale"),
    AttributeDefinition("city", AttributeType.TEXT, "City"),
)
NUMBER, DATE, BOOL, TEXT = (
    AttributeType.NUMBER,
    AttributeType.DATE,
    AttributeType.BOOL,
    AttributeType.TEXT,
)


async def event(
    tx: Transaction,
    party: Party,
    event_id: str,
    kind: str,
    minutes: float,
    amount_minor: int | None = None,
    order_id: str | None = None,
) -> None:
    await tx.events.insert_new(
        party.tenant.id,
        [
            NewBusinessEvent(
                event_id=event_id,
                type=kind,
                occurred_at=at(minutes),
                contact_id=party.contact.id,
                channel_id=party.channel.id,
                amount_minor=amount_minor,
                currency="CNY" if amount_minor is not None else None,
                order_id=order_id,
                properties_json=None,
            )
        ],
        at(100),
    )


async def set_values(tx: Transaction, party: Party, **values: object) -> None:
    kinds = {d.name: d.type for d in DEFINITIONS}
    changes = [AttributeChange(n, kinds[n], v) for n, v in values.items()]
    await tx.attributes.apply(party.tenant.id, party.contact.id, changes, at(1))


class Shop:
    """The four contacts of the module docstring."""

    def __init__(self, parties: dict[str, Party]) -> None:
        self.parties = parties
        self.tenant: TenantRecord = parties["amy"].tenant

    def id(self, name: str) -> str:
        return self.parties[name].contact.id

    def name(self, contact_id: str) -> str:
        return next(n for n, p in self.parties.items() if p.contact.id == contact_id)

    async def search(
        self, store: Store, sort: ContactSort = ContactSort.LAST_ACTIVE, **params: object
    ) -> list[DirectoryRow]:
        parsed = parse_search(
            ListParameters(**params),
            tenant_id=self.tenant.id,
            definitions=DEFINITIONS,
            currency="CNY",
            currency_digits=2,
            now=at(60),
        )
        async with store.transaction(readonly=True) as tx:
            return await tx.directory.search(replace(parsed, sort=sort))

    async def names(self, store: Store, **params: object) -> list[str]:
        return [self.name(r.contact_id) for r in await self.search(store, **params)]


@pytest.fixture
async def shop(store: Store) -> Shop:
    async with store.transaction() as tx:
        parties = {
            "amy": await make_party_in(tx, "acme", "line", "amy"),
            "bob": await make_party_in(tx, "acme", "line", "bob"),
            "cai": await make_party_in(tx, "acme", "web", "cai"),
            "dan": await make_party_in(tx, "acme", "web", "dan"),
        }
        # Another tenant's contact with everything: never listed.
        other = await make_party_in(tx, "other", "line", "amy")
        await store_inbound(tx, other, "o1", received_at=at(59))
        await tx.attributes.replace_definitions(parties["amy"].tenant.id, DEFINITIONS)
        amy, bob, cai = parties["amy"], parties["bob"], parties["cai"]
        await store_inbound(tx, amy, "a1", received_at=at(10))
        await store_outbound(tx, amy, now=at(55))  # outbound is not activity
        await event(tx, amy, "oa1", "order", 5, 10000, "1")
        await event(tx, amy, "oa2", "order", 6, 5000, "2")
        await event(tx, bob, "ob1", "order", 30, 2000, "3")
        await event(tx, bob, "rb1", "refund", 40, 500, "3")
        await store_inbound(tx, cai, "c1", received_at=at(50))
        for name, tags in {"amy": ["vip"], "bob": ["vip", "tea"], "cai": ["tea"]}.items():
            for tag in tags:
                await tx.tags.add(amy.tenant.id, parties[name].contact.id, tag)
        await set_values(tx, amy, level=Decimal(3), weight=Decimal("1.5"), city="Hangzhou")
        await set_values(tx, bob, level=Decimal(1), wholesale=True, birthday=date(1990, 5, 1))
        await set_values(tx, cai, level=Decimal(10), wholesale=False, city="杭州 West Lake")
    return Shop(parties)


# -- attributes ------------------------------------------------------------------------------


async def test_values_are_stored_exactly_and_typed(store: Store) -> None:
    async with store.transaction() as tx:
        party = await make_party_in(tx)
        await tx.attributes.replace_definitions(party.tenant.id, DEFINITIONS)
        await set_values(
            tx,
            party,
            level=Decimal("123456789012.123456") - Decimal("123456789000"),
            weight=Decimal("0.1"),
            birthday=date(2000, 2, 29),
            wholesale=False,
            city="上海",
        )
    async with store.transaction(readonly=True) as tx:
        found = {
            a.name: (a.type, a.value) for a in await tx.attributes.of_contact(party.contact.id)
        }
    assert found == {
        "level": (NUMBER, Decimal("12.123456")),
        "weight": (NUMBER, Decimal("0.1")),
        "birthday": (DATE, date(2000, 2, 29)),
        "wholesale": (BOOL, False),
        "city": (TEXT, "上海"),
    }
    assert isinstance(found["weight"][1], Decimal)


async def test_a_value_is_replaced_and_cleared(store: Store) -> None:
    async with store.transaction() as tx:
        party = await make_party_in(tx)
        await tx.attributes.replace_definitions(party.tenant.id, DEFINITIONS)
        await set_values(tx, party, level=Decimal(1), city="Xi'an")
        await set_values(tx, party, level=Decimal(2))
        await set_values(tx, party, city=None)
    async with store.transaction(readonly=True) as tx:
        values = await tx.attributes.of_contact(party.contact.id)
    assert [(a.name, a.value) for a in values] == [("level", Decimal(2))]


async def test_replacing_declarations_drops_values_of_removed_or_retyped_names(
    store: Store,
) -> None:
    async with store.transaction() as tx:
        party = await make_party_in(tx)
        tenant_id = party.tenant.id
        first = await tx.attributes.replace_definitions(tenant_id, DEFINITIONS)
        await set_values(tx, party, level=Decimal(1), city="Xi'an", wholesale=True)
        again = await tx.attributes.replace_definitions(tenant_id, DEFINITIONS)
        changed = await tx.attributes.replace_definitions(
            tenant_id,
            [
                AttributeDefinition("city", AttributeType.TEXT, "Town"),
                AttributeDefinition("level", AttributeType.TEXT, "Level"),
            ],
        )
        declared = await tx.attributes.definitions(tenant_id)
        left = await tx.attributes.of_contact(party.contact.id)
    assert first.added == tuple(d.name for d in DEFINITIONS)
    assert first.values_removed == 0
    assert (again.added, again.changed, again.removed, again.values_removed) == ((), (), (), 0)
    assert set(changed.removed) == {"weight", "birthday", "wholesale"}
    assert set(changed.changed) == {"city", "level"}
    assert changed.values_removed == 2  # wholesale (removed) and level (now text)
    assert [(d.name, d.label) for d in declared] == [("city", "Town"), ("level", "Level")]
    assert [(a.name, a.value) for a in left] == [("city", "Xi'an")]


# -- the list --------------------------------------------------------------------------------


async def test_each_row_has_its_figures_and_tags(store: Store, shop: Shop) -> None:
    rows = {shop.name(r.contact_id): r for r in await shop.search(store)}
    assert set(rows) == {"amy", "bob", "cai", "dan"}
    amy, bob, dan = rows["amy"], rows["bob"], rows["dan"]
    assert (amy.channel, amy.external_id, amy.display_name) == ("line", "amy", "User amy")
    assert (amy.orders, amy.revenue_minor, amy.tags) == (2, 15000, ("vip",))
    assert amy.last_active == at(10)  # the inbound message, after its orders
    assert (bob.orders, bob.revenue_minor, bob.tags) == (1, 1500, ("tea", "vip"))
    assert bob.last_active == at(40)  # the refund is an event too
    assert (dan.orders, dan.revenue_minor, dan.last_active, dan.tags) == (0, 0, None, ())
    assert amy.source == "message"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["cai", "bob", "amy", "dan"]),
        ({"q": "A"}, ["cai", "amy", "dan"]),  # "User …" names: cAi, Amy, dAn
        ({"q": "user b"}, ["bob"]),
        ({"q": "%"}, []),  # a LIKE wildcard is matched literally
        ({"tags": ("vip",)}, ["bob", "amy"]),
        ({"tags": ("vip", "tea")}, ["bob"]),
        ({"channel": "web"}, ["cai", "dan"]),
        ({"channel": "nowhere"}, []),
        ({"attrs": ("level:gte:3",)}, ["cai", "amy"]),  # numeric, not text: 10 > 3
        ({"attrs": ("level:lt:3",)}, ["bob"]),
        ({"attrs": ("level:eq:3.000",)}, ["amy"]),
        ({"attrs": ("level:ne:3",)}, ["cai", "bob"]),  # dan has no level
        ({"attrs": ("weight:gt:1.499999",)}, ["amy"]),
        ({"attrs": ("weight:set",)}, ["amy"]),
        ({"attrs": ("weight:unset",)}, ["cai", "bob", "dan"]),
        ({"attrs": ("wholesale:eq:true",)}, ["bob"]),
        ({"attrs": ("wholesale:eq:no",)}, ["cai"]),
        ({"attrs": ("birthday:lt:1990-05-02",)}, ["bob"]),
        ({"attrs": ("city:contains:hang",)}, ["amy"]),
        ({"attrs": ("city:contains:west lake",)}, ["cai"]),
        ({"attrs": ("city:eq:hangzhou",)}, []),  # eq is exact
        ({"active_within_days": 1}, ["cai", "bob", "amy"]),
        ({"min_orders": 1}, ["bob", "amy"]),
        ({"min_orders": 2}, ["amy"]),
        ({"min_revenue": "15"}, ["bob", "amy"]),
        ({"min_revenue": "15.01"}, ["amy"]),
        # Everything at once.
        (
            {
                "q": "user",
                "tags": ("vip",),
                "channel": "line",
                "attrs": ("level:gte:1", "wholesale:set"),
                "active_within_days": 1,
                "min_orders": 1,
                "min_revenue": "10",
            },
            ["bob"],
        ),
    ],
)
async def test_filters(
    store: Store, shop: Shop, params: dict[str, object], expected: list[str]
) -> None:
    assert await shop.names(store, **params) == expected


async def test_activity_older_than_the_window_does_not_count(store: Store, shop: Shop) -> None:
    parsed = parse_search(
        ListParameters(active_within_days=1),
        tenant_id=shop.tenant.id,
        definitions=DEFINITIONS,
        currency="CNY",
        currency_digits=2,
        now=at(40) + timedelta(days=1),  # bob's refund is exactly one day old: still in
    )
    async with store.transaction(readonly=True) as tx:
        rows = await tx.directory.search(parsed)
    assert [shop.name(r.contact_id) for r in rows] == ["cai", "bob"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (ContactSort.LAST_ACTIVE, ["cai", "bob", "amy", "dan"]),
        (ContactSort.ORDERS, ["amy", "bob"]),  # then cai and dan (0), by id
        (ContactSort.REVENUE, ["amy", "bob"]),
        (ContactSort.NAME, ["amy", "bob", "cai", "dan"]),
    ],
)
async def test_sorts(store: Store, shop: Shop, sort: ContactSort, expected: list[str]) -> None:
    names = [shop.name(r.contact_id) for r in await shop.search(store, sort=sort)]
    assert names[: len(expected)] == expected
    assert sorted(names) == ["amy", "bob", "cai", "dan"]


async def test_pages_are_stable_under_ties(store: Store) -> None:
    """Twelve contacts share every figure: pages of 5 return each once, ordered by id."""
    async with store.transaction() as tx:
        parties = [await make_party_in(tx, "acme", "line", f"u{i:02}") for i in range(12)]
        tenant = parties[0].tenant
    by_id = sorted((p.contact.id for p in parties), reverse=True)
    for sort in ContactSort:
        seen: list[str] = []
        after: ContactCursor | None = None
        for _ in range(4):
            search = ContactSearch(tenant.id, ContactFilter(), sort, "CNY", after, 5)
            async with store.transaction(readonly=True) as tx:
                rows = await tx.directory.search(search)
            seen += [r.contact_id for r in rows]
            if len(rows) < 5:
                break
            after = ContactCursor(sort, rows[-1].sort_value(sort), rows[-1].contact_id)
        if sort is ContactSort.NAME:
            assert seen == [p.contact.id for p in parties], "names differ: by name"
        else:
            assert seen == by_id, sort


async def test_pages_continue_after_the_cursor_in_every_sort(store: Store, shop: Shop) -> None:
    for sort in ContactSort:
        everything = await shop.search(store, sort=sort)
        walked: list[str] = []
        after: ContactCursor | None = None
        while True:
            parsed = parse_search(
                ListParameters(limit=1),
                tenant_id=shop.tenant.id,
                definitions=DEFINITIONS,
                currency="CNY",
                currency_digits=2,
                now=at(60),
            )
            async with store.transaction(readonly=True) as tx:
                rows = await tx.directory.search(replace(parsed, sort=sort, after=after))
            if not rows:
                break
            walked.append(rows[0].contact_id)
            after = ContactCursor(sort, rows[0].sort_value(sort), rows[0].contact_id)
        assert walked == [r.contact_id for r in everything], sort


# -- the timeline ----------------------------------------------------------------------------


async def full_history(store: Store) -> Party:
    """A contact with one item of every kind, a minute apart (kinds listed oldest first)."""
    async with store.transaction() as tx:
        party = await make_party_in(tx, "acme", "line", "zoe")
        tenant_id, contact_id = party.tenant.id, party.contact.id
        inbound, _ = await store_inbound(tx, party, "z1", "hi", received_at=at(1))
        reply = await store_outbound(tx, party, "hello", reply_to=inbound, now=at(2))
        await tx.outbox.enqueue(
            tenant_id=tenant_id,
            channel_id=party.channel.id,
            contact_id=contact_id,
            message_id=reply.id,
            text=reply.text,
            not_before=at(2),
            now=at(2),
        )
        consent = await tx.consents.grant(
            tenant_id=tenant_id,
            contact_id=contact_id,
            channel_id=party.channel.id,
            topic="care",
            source="api:admin",
            wording="Send me brewing tips",
            now=at(3),
        )
        await tx.handoffs.open(
            tenant_id=tenant_id,
            conversation_id=party.conversation.id,
            contact_id=contact_id,
            now=at(4),
        )
        agent = await tx.agents.add(tenant_id=tenant_id, name="lin", now=at(0))
        await tx.handoffs.assign(party.conversation.id, agent.id, at(5), expected=None)
        await tx.notes.add(
            ConversationNote(
                "n" * 32, tenant_id, party.conversation.id, "lin@shop", "prefers green", at(6)
            )
        )
        await tx.handoffs.resolve(party.conversation.id, at(7), ask_rating=True)
        await tx.handoffs.close_rating(party.conversation.id, 5)
        await event(tx, party, "o-9", "order", 8, 12800, "9")
        await tx.deferred.add(
            tenant_id=tenant_id,
            channel_id=party.channel.id,
            contact_id=contact_id,
            topic="care",
            text="New spring tea",
            broadcast_id="b" * 32,
            due_at=at(600),
            now=at(9),
        )
        await tx.consents.withdraw(contact_id, "care", at(10))
        await tx.contacts.set_opted_out(contact_id, at(10))  # the same minute: kind decides
        assert consent.topic == "care"
        # Someone else's history never shows.
        other = await make_party_in(tx, "acme", "line", "yan")
        await store_inbound(tx, other, "y1", received_at=at(5))
        await event(tx, other, "o-y", "order", 5, 100)
    return party


EXPECTED = [
    TimelineKind.OPT_OUT,  # at 10, "opt_out" > "consent_withdrawn"
    TimelineKind.CONSENT_WITHDRAWN,
    TimelineKind.PROACTIVE_SEND,
    TimelineKind.EVENT,
    TimelineKind.HANDOFF_RESOLVED,
    TimelineKind.NOTE,
    TimelineKind.HANDOFF_CLAIMED,
    TimelineKind.HANDOFF_REQUESTED,
    TimelineKind.CONSENT_GRANTED,
    TimelineKind.MESSAGE_OUT,
    TimelineKind.MESSAGE_IN,
]


async def test_the_timeline_merges_every_kind_newest_first(store: Store) -> None:
    party = await full_history(store)
    async with store.transaction(readonly=True) as tx:
        items = await tx.timeline.page(party.tenant.id, party.contact.id, None, 100)
    assert [i.kind for i in items] == EXPECTED
    assert [i.at for i in items] == sorted((i.at for i in items), reverse=True)
    by_kind = {i.kind: i for i in items}
    said = by_kind[TimelineKind.MESSAGE_IN]
    assert isinstance(said, MessageItem)
    assert (said.text, said.at) == ("hi", at(1))
    answer = by_kind[TimelineKind.MESSAGE_OUT]
    assert isinstance(answer, MessageItem)
    assert (answer.text, answer.status) == ("hello", "pending")
    granted = by_kind[TimelineKind.CONSENT_GRANTED]
    assert isinstance(granted, ConsentItem)
    assert (granted.topic, granted.wording, granted.source) == (
        "care",
        "Send me brewing tips",
        "api:admin",
    )
    assert by_kind[TimelineKind.CONSENT_WITHDRAWN].at == at(10)
    claimed = by_kind[TimelineKind.HANDOFF_CLAIMED]
    assert isinstance(claimed, HandoffItem)
    assert claimed.agent == "lin"
    resolved = by_kind[TimelineKind.HANDOFF_RESOLVED]
    assert isinstance(resolved, HandoffItem)
    assert resolved.rating == 5
    order = by_kind[TimelineKind.EVENT]
    assert isinstance(order, EventItem)
    assert (order.item_id, order.type, order.amount_minor, order.currency, order.order_id) == (
        "o-9",
        "order",
        12800,
        "CNY",
        "9",
    )
    held = by_kind[TimelineKind.PROACTIVE_SEND]
    assert isinstance(held, ProactiveSendItem)
    assert (held.topic, held.status, held.broadcast_id) == ("care", "waiting", "b" * 32)
    note = by_kind[TimelineKind.NOTE]
    assert isinstance(note, NoteItem)
    assert (note.author, note.text) == ("lin@shop", "prefers green")


async def test_timeline_pages_walk_the_same_order(store: Store) -> None:
    party = await full_history(store)
    walked: list[TimelineKind] = []
    before: TimelineCursor | None = None
    for _ in range(10):
        async with store.transaction(readonly=True) as tx:
            page = await tx.timeline.page(party.tenant.id, party.contact.id, before, 3)
        walked += [i.kind for i in page]
        if len(page) < 3:
            break
        last = page[-1]
        before = TimelineCursor(last.at, last.kind, last.item_id)
    assert walked == EXPECTED


# -- erasure ---------------------------------------------------------------------------------


async def test_erasure_counts_events_attributes_and_tags(store: Store, shop: Shop) -> None:
    async with store.transaction() as tx:
        counts = await tx.contact_data.erase(shop.id("bob"))
    assert (counts.events, counts.attributes, counts.tags, counts.contacts) == (2, 3, 2, 1)
    async with store.transaction(readonly=True) as tx:
        assert await tx.attributes.of_contact(shop.id("bob")) == []
        assert await tx.events.list_for_contact(shop.id("bob")) == []
        assert await tx.tags.of_contact(shop.id("bob")) == []
        left = await shop.names(store)
    assert left == ["cai", "amy", "dan"]


async def test_a_page_is_one_statement_plus_one_for_its_tags(store: SqlStore, shop: Shop) -> None:
    everything = ListParameters(
        q="user", attrs=("level:gte:1",), min_orders=0, min_revenue="0", active_within_days=9
    )
    parsed = parse_search(
        everything,
        tenant_id=shop.tenant.id,
        definitions=DEFINITIONS,
        currency="CNY",
        currency_digits=2,
        now=at(60),
    )
    async with traced(store) as log:
        for wanted in (parsed, replace(parsed, filter=replace(parsed.filter, text="nobody"))):
            async with store.transaction(readonly=True) as tx:  # warm the fresh connection
                await tx.directory.search(wanted)
            log.clear()
            log.active = True
            async with store.transaction(readonly=True) as tx:
                rows = await tx.directory.search(wanted)
            log.active = False
            selects = [s for s in log.statements if s.verb == "SELECT"]
            assert len(selects) == (2 if rows else 1), log.render()
