"""The storage contract, part 1: tenants, channels, contacts, conversations,
messages and transactions.

Every test takes the ``store`` fixture, so it runs once per backend (SQLite and
PostgreSQL), and touches the store only through the :mod:`kindbot.core.ports.seams`
Protocols.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.conversations import (
    ConversationState,
    Direction,
    InboundOpening,
    InboundStatus,
)
from kindbot.core.records.flows import FlowState
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.core.records.tenancy import TenantStatus
from kindbot.guard.audit import AuditDraft
from tests.contracts.builders import (
    T0,
    Party,
    at,
    enqueue_reply,
    make_channel,
    make_contact,
    make_party,
    make_party_in,
    make_tenant,
    open_conversation,
    raises_in_transaction,
    store_inbound,
    store_outbound,
)

TAIPEI = timezone(timedelta(hours=8))


def assert_utc(value: datetime | None) -> None:
    assert value is not None
    assert value.tzinfo is not None, "datetimes must come back timezone-aware"
    assert value.utcoffset() == timedelta(0), "datetimes must come back in UTC"


# --- tenants ---------------------------------------------------------------


async def test_tenant_upsert_creates_then_updates(store: Store) -> None:
    async with store.transaction() as tx:
        created, was_created = await tx.tenants.upsert(
            slug="acme",
            name="Acme",
            industry="retail",
            timezone="Asia/Taipei",
            language="zh-TW",
            kb_threshold=None,
            now=T0,
        )
    assert was_created is True
    assert created.slug == "acme"
    assert created.name == "Acme"
    assert created.industry == "retail"
    assert created.timezone == "Asia/Taipei"
    assert created.language == "zh-TW"
    assert created.kb_threshold is None
    assert created.status is TenantStatus.PENDING, "a new tenant waits for a platform admin"
    assert created.created_at == T0
    assert_utc(created.created_at)

    async with store.transaction() as tx:
        updated, was_created = await tx.tenants.upsert(
            slug="acme",
            name="Acme Corp",
            industry="food",
            timezone="Asia/Tokyo",
            language="ja",
            kb_threshold=0.42,
            now=at(60),
        )
    assert was_created is False
    assert updated.id == created.id
    assert (updated.name, updated.industry, updated.timezone, updated.language) == (
        "Acme Corp",
        "food",
        "Asia/Tokyo",
        "ja",
    )
    assert updated.kb_threshold == pytest.approx(0.42)
    assert updated.created_at == T0, "an update must not move created_at"


async def test_tenant_upsert_keeps_status(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx, "acme")
        await tx.tenants.set_status(tenant.id, TenantStatus.SUSPENDED)
    async with store.transaction() as tx:
        again, was_created = await tx.tenants.upsert(
            slug="acme",
            name="Renamed",
            industry="retail",
            timezone="UTC",
            language="en",
            kb_threshold=None,
            now=at(5),
        )
    assert was_created is False
    assert again.status is TenantStatus.SUSPENDED
    assert again.name == "Renamed"


async def test_tenant_get_get_by_slug_and_list(store: Store) -> None:
    async with store.transaction() as tx:
        beta = await make_tenant(tx, "beta")
        alpha = await make_tenant(tx, "alpha")
    async with store.transaction() as tx:
        assert await tx.tenants.get(alpha.id) == alpha
        assert await tx.tenants.get_by_slug("beta") == beta
        assert await tx.tenants.get("no-such-id") is None
        assert await tx.tenants.get_by_slug("no-such-slug") is None
        listed = await tx.tenants.list()
    assert sorted(listed, key=lambda t: t.slug) == [alpha, beta]


# --- channels --------------------------------------------------------------


async def test_channel_upsert_creates_then_updates(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        channel, was_created = await tx.channels.upsert(
            tenant_id=tenant.id,
            public_id="acme.line",
            local_id="line",
            kind="line",
            config_sealed="v1",
        )
    assert was_created is True
    assert (channel.tenant_id, channel.public_id, channel.local_id) == (
        tenant.id,
        "acme.line",
        "line",
    )
    assert (channel.kind, channel.config_sealed, channel.enabled) == ("line", "v1", True)

    async with store.transaction() as tx:
        updated, was_created = await tx.channels.upsert(
            tenant_id=tenant.id,
            public_id="acme.line",
            local_id="line",
            kind="line",
            config_sealed="v2",
        )
    assert was_created is False
    assert updated.id == channel.id
    assert updated.config_sealed == "v2"

    async with store.transaction() as tx:
        assert await tx.channels.get(channel.id) == updated
        assert await tx.channels.get_by_public_id("acme.line") == updated
        assert await tx.channels.get("no-such-id") is None
        assert await tx.channels.get_by_public_id("acme.nothing") is None


async def test_channel_tenant_and_local_id_round_trip(store: Store) -> None:
    async with store.transaction() as tx:
        acme = await make_tenant(tx, "acme")
        other = await make_tenant(tx, "other")
        line = await make_channel(tx, acme, "line")
        web = await make_channel(tx, acme, "web")
        same_local_elsewhere = await make_channel(tx, other, "line")
    async with store.transaction() as tx:
        acme_channels = await tx.channels.list_for_tenant(acme.id)
        other_channels = await tx.channels.list_for_tenant(other.id)
        nobody = await tx.channels.list_for_tenant("no-such-tenant")
    assert sorted(acme_channels, key=lambda c: c.local_id) == [line, web]
    assert other_channels == [same_local_elsewhere]
    assert nobody == []
    assert {(c.tenant_id, c.local_id) for c in acme_channels} == {
        (acme.id, "line"),
        (acme.id, "web"),
    }
    assert line.id != same_local_elsewhere.id


async def test_channel_public_id_of_another_tenant_is_refused(store: Store) -> None:
    async with store.transaction() as tx:
        acme = await make_tenant(tx, "acme")
        other = await make_tenant(tx, "other")
        owned = await make_channel(tx, acme, "line", config="acme-config")
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match=r"acme\.line"):
            await tx.channels.upsert(
                tenant_id=other.id,
                public_id="acme.line",
                local_id="line",
                kind="line",
                config_sealed="stolen",
            )
    async with store.transaction() as tx:
        assert await tx.channels.get_by_public_id("acme.line") == owned
        assert await tx.channels.list_for_tenant(other.id) == []


# --- contacts --------------------------------------------------------------


async def test_contact_get_or_create_is_idempotent_per_channel(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        line = await make_channel(tx, tenant, "line")
        web = await make_channel(tx, tenant, "web")
        first = await tx.contacts.get_or_create(
            tenant_id=tenant.id,
            channel_id=line.id,
            external_id="U1",
            display_name="小明",
            now=T0,
        )
    assert (first.tenant_id, first.channel_id, first.external_id) == (tenant.id, line.id, "U1")
    assert first.display_name == "小明"
    assert first.is_test is False
    assert first.created_at == T0
    assert_utc(first.created_at)

    async with store.transaction() as tx:
        again = await tx.contacts.get_or_create(
            tenant_id=tenant.id, channel_id=line.id, external_id="U1", display_name=None, now=at(9)
        )
        elsewhere = await make_contact(tx, web, "U1")
    assert again == first
    assert elsewhere.id != first.id
    assert elsewhere.channel_id == web.id

    async with store.transaction() as tx:
        assert await tx.contacts.get(first.id) == first
        assert await tx.contacts.find(line.id, "U1") == first
        assert await tx.contacts.find(web.id, "U1") == elsewhere
        assert await tx.contacts.find(line.id, "U2") is None
        assert await tx.contacts.get("no-such-id") is None


async def test_mark_test_creates_or_flags_and_unmark_test_reverts(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        other = await make_tenant(tx, "other")
        line = await make_channel(tx, tenant, "line")
        elsewhere = await make_channel(tx, other, "line")
        known = await make_contact(tx, line, "U1")
        await make_contact(tx, elsewhere, "U1")
    assert known.is_test is False

    async with store.transaction() as tx:
        flagged, changed = await tx.contacts.mark_test(
            tenant_id=tenant.id, channel_id=line.id, external_id="U1", now=at(1)
        )
        fresh, created = await tx.contacts.mark_test(
            tenant_id=tenant.id, channel_id=line.id, external_id="tester", now=at(2)
        )
    assert changed is True
    assert flagged.id == known.id
    assert flagged.is_test is True
    assert flagged.display_name == known.display_name
    assert flagged.created_at == known.created_at
    assert created is True
    assert (fresh.tenant_id, fresh.channel_id, fresh.external_id) == (tenant.id, line.id, "tester")
    assert fresh.is_test is True
    assert fresh.display_name is None
    assert fresh.created_at == at(2)
    assert_utc(fresh.created_at)

    async with store.transaction() as tx:
        again, changed_again = await tx.contacts.mark_test(
            tenant_id=tenant.id, channel_id=line.id, external_id="tester", now=at(3)
        )
        assert (
            await tx.contacts.get_or_create(
                tenant_id=tenant.id,
                channel_id=line.id,
                external_id="tester",
                display_name="x",
                now=T0,
            )
            == fresh
        ), "get_or_create keeps a test contact as it is"
        listed = await tx.contacts.list_test(tenant.id)
        assert await tx.contacts.list_test(other.id) == []
    assert (again, changed_again) == (fresh, False)
    assert sorted(c.external_id for c in listed) == ["U1", "tester"]

    async with store.transaction() as tx:
        await tx.contacts.unmark_test(flagged.id)
    async with store.transaction() as tx:
        assert [c.id for c in await tx.contacts.list_test(tenant.id)] == [fresh.id]
        unflagged = await tx.contacts.get(known.id)
    assert unflagged is not None
    assert unflagged.is_test is False


# --- conversations ---------------------------------------------------------


async def test_conversation_get_or_open_returns_the_open_one(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        channel = await make_channel(tx, tenant)
        contact = await make_contact(tx, channel)
        first = await open_conversation(tx, contact, now=T0)
    assert first.state is ConversationState.BOT
    assert first.last_inbound_at is None
    assert (first.tenant_id, first.channel_id, first.contact_id) == (
        tenant.id,
        channel.id,
        contact.id,
    )

    async with store.transaction() as tx:
        again = await open_conversation(tx, contact, now=at(30))
        await tx.conversations.set_state(first.id, ConversationState.HUMAN)
        still = await open_conversation(tx, contact, now=at(31))
    assert again == first
    assert still.id == first.id
    assert still.state is ConversationState.HUMAN


async def test_resolving_a_conversation_lets_a_new_one_open(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        await tx.conversations.set_state(party.conversation.id, ConversationState.RESOLVED)
    async with store.transaction() as tx:
        fresh = await open_conversation(tx, party.contact, now=at(60))
        old = await tx.conversations.get(party.conversation.id)
    assert fresh.id != party.conversation.id
    assert fresh.state is ConversationState.BOT
    assert fresh.created_at == at(60)
    assert old is not None
    assert old.state is ConversationState.RESOLVED


async def test_conversation_datetimes_round_trip_as_utc(store: Store) -> None:
    opened_at = datetime(2026, 11, 25, 18, 0, 0, 123456, tzinfo=TAIPEI)
    touched_at = datetime(2026, 11, 25, 18, 5, 7, 654321, tzinfo=TAIPEI)
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        channel = await make_channel(tx, tenant)
        contact = await make_contact(tx, channel)
        conversation = await open_conversation(tx, contact, now=opened_at)
        await tx.conversations.touch_inbound(conversation.id, touched_at)
    async with store.transaction() as tx:
        loaded = await tx.conversations.get(conversation.id)
        assert await tx.conversations.get("no-such-id") is None
    assert loaded is not None
    assert loaded.created_at == opened_at
    assert loaded.last_inbound_at == touched_at
    assert_utc(loaded.created_at)
    assert_utc(loaded.last_inbound_at)
    assert loaded.created_at.replace(tzinfo=None) == datetime(2026, 11, 25, 10, 0, 0, 123456)


async def test_open_for_sender_creates_opens_and_touches_unless_the_message_is_stored(
    store: Store,
) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        channel = await make_channel(tx, tenant)

    async def open_for(key: str, minute: int, sender: str = "U1") -> InboundOpening:
        async with store.transaction() as tx:
            opened = await tx.conversations.open_for_sender(
                tenant_id=tenant.id,
                channel_id=channel.id,
                external_id=sender,
                display_name=f"User {sender}",
                idempotency_key=key,
                at=at(minute),
                recent=3,
            )
            current = await tx.tenants.get(tenant.id)
            assert current is not None
            assert opened.tenant_revision == current.revision
            assert opened.contact == await tx.contacts.find(channel.id, sender)
            return opened

    first = await open_for("k-1", 1)  # a new contact, none open: both made, touched
    opened, contact = first.conversation, first.contact
    assert (opened.state, opened.last_inbound_at) == (ConversationState.BOT, at(1))
    assert (contact.external_id, contact.display_name, contact.created_at) == (
        "U1",
        "User U1",
        at(1),
    )
    assert (opened.contact_id, first.recent_bot_texts, first.flow_state) == (contact.id, (), None)
    party = Party(tenant, channel, contact, opened)
    async with store.transaction() as tx:
        await store_inbound(tx, party, "k-1", received_at=at(1))
    again = await open_for("k-1", 2)  # a duplicate of a stored message: not touched
    assert (again.conversation.id, again.conversation.last_inbound_at) == (opened.id, at(1))
    later = await open_for("k-2", 3)
    assert (later.conversation.id, later.conversation.last_inbound_at) == (opened.id, at(3))
    async with store.transaction() as tx:
        assert await tx.conversations.get(opened.id) == later.conversation
        await tx.conversations.set_state(opened.id, ConversationState.RESOLVED)
    fresh = await open_for("k-3", 4)  # a known contact, none open: opened for it
    assert fresh.conversation.id != opened.id
    assert (fresh.contact, fresh.conversation.last_inbound_at) == (contact, at(4))
    other = await open_for("k-4", 5, sender="U2")
    assert other.contact.id != contact.id
    assert other.conversation.contact_id == other.contact.id


async def test_open_for_sender_reads_the_recent_bot_texts_and_the_flow_state(
    store: Store,
) -> None:
    party = await make_party(store)
    state = FlowState("order", "ask_phone", (("name", "王"),), 1, "zh", at(2))
    async with store.transaction() as tx:
        for n in range(5):
            await store_outbound(tx, party, f"reply {n}", now=at(n))
        await store_inbound(tx, party, "k-0", received_at=at(6))
        await tx.flows.save_state(
            tenant_id=party.tenant.id,
            conversation_id=party.conversation.id,
            contact_id=party.contact.id,
            state=state,
        )
        await tx.contacts.set_followed(party.contact.id, False, at(7))
    async with store.transaction() as tx:
        opened = await tx.conversations.open_for_sender(
            tenant_id=party.tenant.id,
            channel_id=party.channel.id,
            external_id=party.contact.external_id,
            display_name=None,
            idempotency_key="k-1",
            at=at(8),
            recent=3,
        )
        assert opened.recent_bot_texts == tuple(
            await tx.messages.recent_outbound_texts(party.conversation.id, 3)
        )
        assert opened.contact == await tx.contacts.get(party.contact.id)
    assert opened.recent_bot_texts == ("reply 4", "reply 3", "reply 2")
    assert opened.flow_state == state
    assert opened.contact.followed is False
    assert opened.conversation.id == party.conversation.id


# --- messages --------------------------------------------------------------


async def test_insert_inbound_dedups_on_channel_and_key(store: Store) -> None:
    party = await make_party(store)
    received = at(1, seconds=0.25)
    async with store.transaction() as tx:
        first, created = await store_inbound(tx, party, "k-1", "你好 👋", received_at=received)
    assert created is True
    assert first.direction is Direction.INBOUND
    assert first.kind == "text"
    assert first.text == "你好 👋"
    assert first.idempotency_key is not None
    assert first.status == InboundStatus.RECEIVED
    assert first.reply_to_id is None
    assert first.generated is False
    assert first.created_at == received
    assert_utc(first.created_at)
    assert (first.tenant_id, first.channel_id, first.contact_id, first.conversation_id) == (
        party.tenant.id,
        party.channel.id,
        party.contact.id,
        party.conversation.id,
    )

    async with store.transaction() as tx:
        second, created = await store_inbound(
            tx, party, "k-1", "retried delivery", received_at=at(2)
        )
        history = await tx.messages.history(party.conversation.id, 10)
    assert created is False
    assert second == first
    assert history == [first]


async def test_same_key_on_another_channel_is_another_message(store: Store) -> None:
    line = await make_party(store, local_id="line")
    web = await make_party(store, local_id="web")
    async with store.transaction() as tx:
        on_line, created_line = await store_inbound(tx, line, "same-key")
        on_web, created_web = await store_inbound(tx, web, "same-key")
    assert created_line is True
    assert created_web is True
    assert on_line.id != on_web.id
    assert on_web.channel_id == web.channel.id


async def test_finish_inbound_marks_processed_once(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        message, _ = await store_inbound(tx, party, "k-1")
    async with store.transaction() as tx:
        finished = await tx.messages.finish_inbound(message, kb_asked=True, since=T0)
        again = await tx.messages.finish_inbound(message, kb_asked=False, since=T0)
    assert finished is not None
    assert (finished.message.id, finished.message.status) == (message.id, InboundStatus.PROCESSED)
    assert again is None, "a second pass finds it processed and changes nothing"
    async with store.transaction() as tx:
        assert await tx.messages.finish_inbound(message, kb_asked=False, since=T0) is None
        assert (await tx.messages.lock_inbound(message.id)).status == InboundStatus.PROCESSED


async def test_finish_inbound_reads_the_state_the_open_rating_and_the_activity(
    store: Store,
) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        # An earlier conversation, resolved with the satisfaction question open.
        earlier = party.conversation
        await tx.handoffs.open(
            tenant_id=party.tenant.id,
            conversation_id=earlier.id,
            contact_id=party.contact.id,
            now=at(1),
        )
        await tx.handoffs.resolve(earlier.id, at(2), ask_rating=True)
        await tx.conversations.set_state(earlier.id, ConversationState.RESOLVED)
        current = await open_conversation(tx, party.contact, now=at(3))
        await tx.conversations.set_state(current.id, ConversationState.WAITING)
        await store_outbound(tx, party, "before", now=at(3), conversation=current)
        message, _ = await store_inbound(tx, party, "k-1", received_at=at(4), conversation=current)
        await store_outbound(tx, party, "one", reply_to=message, now=at(5), conversation=current)
        await store_outbound(tx, party, "two", now=at(9), conversation=current)
    async with store.transaction() as tx:
        finished = await tx.messages.finish_inbound(message, kb_asked=False, since=at(6))
        assert finished is not None
        assert finished.activity == await tx.messages.activity(
            current.id, reply_to_id=message.id, since=at(6)
        )
    assert finished.conversation_state is ConversationState.WAITING
    assert finished.rating_conversation_id == earlier.id
    activity = finished.activity
    assert (activity.outbound_total, activity.outbound_since_inbound) == (3, 2)
    assert (activity.outbound_since, activity.replies_to) == (1, 1)
    assert (activity.last_inbound_at, activity.last_inbound_kind) == (at(4), "text")


async def test_mark_processed(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        message, _ = await store_inbound(tx, party, "k-1")
    async with store.transaction() as tx:
        await tx.messages.mark_processed(message.id)
    async with store.transaction() as tx:
        locked = await tx.messages.lock_inbound(message.id)
    assert locked.id == message.id
    assert locked.status == InboundStatus.PROCESSED


async def test_insert_outbound_and_count_outbound(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        inbound, _ = await store_inbound(tx, party, "k-1")
        reply = await tx.messages.insert_outbound(
            tenant_id=party.tenant.id,
            channel_id=party.channel.id,
            contact_id=party.contact.id,
            conversation_id=party.conversation.id,
            text="歡迎光臨",
            reply_to_id=inbound.id,
            generated=True,
            now=at(1),
        )
        await store_outbound(tx, party, "second")
        assert await tx.messages.count_outbound(party.conversation.id) == 2
        assert await tx.messages.count_outbound("no-such-conversation") == 0
    assert reply.direction is Direction.OUTBOUND
    assert reply.text == "歡迎光臨"
    assert reply.reply_to_id == inbound.id
    assert reply.generated is True
    assert reply.idempotency_key is None
    assert reply.created_at == at(1)
    assert_utc(reply.created_at)
    assert reply.id != inbound.id


async def test_replies_to_in_the_order_they_were_made(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        question, _ = await store_inbound(tx, party, "q-1")
        other, _ = await store_inbound(tx, party, "q-2")
        # Same timestamp on purpose: order is creation order, not the clock.
        replies = [await store_outbound(tx, party, f"r{i}", reply_to=question) for i in range(3)]
        await store_outbound(tx, party, "unrelated", reply_to=other)
    async with store.transaction() as tx:
        assert await tx.messages.replies_to(question.id) == replies
        assert await tx.messages.replies_to("no-such-message") == []


async def test_history_is_newest_n_oldest_first(store: Store) -> None:
    party = await make_party(store)
    other = await make_party(store, external_id="U2")
    async with store.transaction() as tx:
        made = []
        for i in range(5):
            inbound, _ = await store_inbound(tx, party, f"k-{i}", f"q{i}", received_at=at(i))
            made.append(inbound)
            made.append(await store_outbound(tx, party, f"a{i}", reply_to=inbound, now=at(i)))
        await store_inbound(tx, other, "k-0", "someone else")
    async with store.transaction() as tx:
        assert await tx.messages.history(party.conversation.id, 3) == made[-3:]
        assert await tx.messages.history(party.conversation.id, 100) == made
        assert await tx.messages.history("no-such-conversation", 10) == []


async def test_history_for_contact_spans_conversations(store: Store) -> None:
    party = await make_party(store)
    other = await make_party(store, external_id="U2")
    async with store.transaction() as tx:
        first, _ = await store_inbound(tx, party, "k-1", "first", received_at=at(1))
        answer = await store_outbound(tx, party, "answer", now=at(2))
        await tx.conversations.set_state(party.conversation.id, ConversationState.RESOLVED)
        await store_inbound(tx, other, "k-1", "other contact", received_at=at(3))
    async with store.transaction() as tx:
        later = await open_conversation(tx, party.contact, now=at(10))
        second, _ = await store_inbound(
            tx, party, "k-2", "second", received_at=at(10), conversation=later
        )
    assert later.id != party.conversation.id
    async with store.transaction() as tx:
        everything = await tx.messages.history_for_contact(party.contact.id, 10)
        newest_two = await tx.messages.history_for_contact(party.contact.id, 2)
    assert everything == [first, answer, second]
    assert newest_two == [answer, second]


async def test_unprocessed_inbound_returns_received_rows_stored_before_the_cutoff(
    store: Store,
) -> None:
    party = await make_party(store)
    cutoff = at(5)
    async with store.transaction() as tx:
        waiting, _ = await store_inbound(tx, party, "a", received_at=at(0))
        done, _ = await store_inbound(tx, party, "b", received_at=at(1))
        await tx.messages.mark_processed(done.id)
        await store_outbound(tx, party, "outbound is never resumed", now=at(1))
        also_waiting, _ = await store_inbound(tx, party, "c", received_at=at(2))
        await store_inbound(tx, party, "at-cutoff", received_at=cutoff)
        await store_inbound(tx, party, "after-cutoff", received_at=at(10))
    async with store.transaction() as tx:
        found = await tx.messages.unprocessed_inbound(cutoff, 100)
        limited = await tx.messages.unprocessed_inbound(cutoff, 1)
        none_yet = await tx.messages.unprocessed_inbound(at(-1), 100)
    assert {m.id for m in found} == {waiting.id, also_waiting.id}
    assert all(m.status == InboundStatus.RECEIVED for m in found)
    assert len(limited) == 1
    assert limited[0].id in {waiting.id, also_waiting.id}
    assert none_yet == []


# --- transactions ----------------------------------------------------------


class DeliberateError(Exception):
    """Raised on purpose inside a transaction."""


async def test_exception_rolls_back_everything_done_in_the_transaction(store: Store) -> None:
    ids: dict[str, str] = {}

    async def do_everything_then_fail(tx: Transaction) -> None:
        party = await make_party_in(tx)
        inbound, _ = await store_inbound(tx, party, "k-1")
        item = await enqueue_reply(tx, party, "reply")
        await tx.knowledge.upsert_many(party.tenant.id, [KnowledgeEntry("e1", "q", "a")])
        await tx.consents.grant(
            tenant_id=party.tenant.id,
            contact_id=party.contact.id,
            channel_id=party.channel.id,
            topic="promotions",
            source="test",
            wording="ok?",
            now=T0,
        )
        audit = AuditDraft(party.tenant.id, T0, "test", "subject", "R0", "allow", "detail")
        await tx.audit.add_pending([audit])
        ids.update(
            tenant=party.tenant.id,
            channel=party.channel.id,
            contact=party.contact.id,
            conversation=party.conversation.id,
            inbound=inbound.id,
            outbound=item.message_id,
        )
        raise DeliberateError

    assert isinstance(await raises_in_transaction(store, do_everything_then_fail), DeliberateError)

    async with store.transaction() as tx:
        assert await tx.tenants.get(ids["tenant"]) is None
        assert await tx.tenants.list() == []
        assert await tx.channels.get(ids["channel"]) is None
        assert await tx.contacts.get(ids["contact"]) is None
        assert await tx.conversations.get(ids["conversation"]) is None
        assert await tx.messages.history(ids["conversation"], 10) == []
        assert await tx.messages.unprocessed_inbound(at(60), 10) == []
        assert await tx.outbox.for_message(ids["outbound"]) is None
        assert await tx.outbox.claim_due(at(60), at(61), 10) == []
        assert await tx.knowledge.list(ids["tenant"]) == []
        assert await tx.knowledge.version(ids["tenant"]) == 0
        assert await tx.consents.active(ids["contact"]) == []
        assert await tx.audit.entries(ids["tenant"], 0, 10) == []


async def test_exception_rolls_back_changes_to_existing_rows(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        inbound, _ = await store_inbound(tx, party, "k-1")
        before = await tx.tenants.get(party.tenant.id)

    async def change_then_fail(tx: Transaction) -> None:
        await tx.tenants.set_status(party.tenant.id, TenantStatus.SUSPENDED)
        await tx.conversations.set_state(party.conversation.id, ConversationState.RESOLVED)
        await tx.conversations.touch_inbound(party.conversation.id, at(3))
        await tx.messages.mark_processed(inbound.id)
        raise DeliberateError

    assert isinstance(await raises_in_transaction(store, change_then_fail), DeliberateError)

    async with store.transaction() as tx:
        tenant = await tx.tenants.get(party.tenant.id)
        conversation = await tx.conversations.get(party.conversation.id)
        message = await tx.messages.lock_inbound(inbound.id)
    assert tenant == before
    assert conversation == party.conversation
    assert message == inbound


async def test_committed_work_is_visible_to_later_transactions(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        assert await tx.tenants.get(tenant.id) == tenant, "a transaction sees its own writes"
    async with store.transaction() as tx:
        assert await tx.tenants.get(tenant.id) == tenant
