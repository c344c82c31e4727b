"""The storage contract for API keys and a contact's data as a whole (export, erasure)."""

from __future__ import annotations

from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.directory import AttributeChange, AttributeDefinition, AttributeType
from kindbot.core.records.flows import FlowState
from kindbot.guard.audit import AuditDraft
from tests.contracts.builders import (
    T0,
    Party,
    at,
    enqueue_reply,
    make_party,
    make_tenant,
    raises_in_transaction,
    store_inbound,
)

# --- api keys --------------------------------------------------------------


async def test_api_keys_are_found_by_prefix_listed_and_revoked_once(store: Store) -> None:
    async with store.transaction() as tx:
        acme = await make_tenant(tx)
        other = await make_tenant(tx, "other")
        key = await tx.api_keys.create(
            tenant_id=acme.id,
            prefix="kbk_a1",
            key_hash="h" * 64,
            label="crm",
            created_by="ops",
            now=T0,
        )
        await tx.api_keys.create(
            tenant_id=other.id,
            prefix="kbk_b2",
            key_hash="g" * 64,
            label="",
            created_by="ops",
            now=T0,
        )

    async with store.transaction() as tx:
        assert await tx.api_keys.by_prefix("kbk_a1") == key
        assert await tx.api_keys.by_prefix("kbk_zz") is None
        assert [k.prefix for k in await tx.api_keys.list_for_tenant(acme.id)] == ["kbk_a1"]
        assert not await tx.api_keys.revoke(other.id, key.id, at(1)), "another tenant's key"
        assert await tx.api_keys.revoke(acme.id, key.id, at(1))
        assert not await tx.api_keys.revoke(acme.id, key.id, at(2)), "already revoked"
        revoked = await tx.api_keys.by_prefix("kbk_a1")
    assert revoked is not None
    assert revoked.revoked_at == at(1)
    assert not revoked.active


async def test_a_key_prefix_is_unique(store: Store) -> None:
    async with store.transaction() as tx:
        acme = await make_tenant(tx)

    async def twice(tx: Transaction) -> None:
        for _ in range(2):
            await tx.api_keys.create(
                tenant_id=acme.id,
                prefix="kbk_x",
                key_hash="h" * 64,
                label="",
                created_by="o",
                now=T0,
            )

    await raises_in_transaction(store, twice)
    async with store.transaction() as tx:
        assert await tx.api_keys.list_for_tenant(acme.id) == []


# --- contact data ------------------------------------------------------------


async def fill(store: Store, party: Party) -> None:
    """A message, a reply in the outbox, a consent, a tag, a deferred send, a flow state
    and an audit entry."""
    async with store.transaction() as tx:
        inbound, _ = await store_inbound(tx, party, f"k-{party.contact.id}", "my phone is 138")
        await enqueue_reply(tx, party, "hello there")
        await tx.consents.grant(
            tenant_id=party.tenant.id,
            contact_id=party.contact.id,
            channel_id=party.channel.id,
            topic="news",
            source="test",
            wording="yes please",
            now=T0,
        )
        await tx.tags.add(party.tenant.id, party.contact.id, "vip")
        await tx.deferred.add(
            tenant_id=party.tenant.id,
            channel_id=party.channel.id,
            contact_id=party.contact.id,
            topic="news",
            text="later",
            broadcast_id=None,
            due_at=at(60),
            now=T0,
        )
        await tx.flows.save_state(
            tenant_id=party.tenant.id,
            conversation_id=party.conversation.id,
            contact_id=party.contact.id,
            state=FlowState("order", "ask", (("phone", "13800138000"),), 0, "zh", T0),
        )
        await tx.attributes.replace_definitions(
            party.tenant.id, [AttributeDefinition("city", AttributeType.TEXT, "City")]
        )
        await tx.attributes.apply(
            party.tenant.id,
            party.contact.id,
            [AttributeChange("city", AttributeType.TEXT, "Suzhou")],
            T0,
        )
        draft = AuditDraft(
            party.tenant.id, T0, "inbound", f"message:{inbound.id}", "x", "allow", "{}"
        )
        await tx.audit.add_pending([draft])


async def test_export_returns_every_row_of_the_contact_and_only_its_own(store: Store) -> None:
    alice = await make_party(store, external_id="alice")
    bob = await make_party(store, external_id="bob")
    await fill(store, alice)
    await fill(store, bob)

    async with store.transaction(readonly=True) as tx:
        data = await tx.contact_data.export(alice.contact.id)
        assert await tx.contact_data.export("no-such-contact") is None

    assert data is not None
    assert data.contact == alice.contact
    assert [c.id for c in data.conversations] == [alice.conversation.id]
    assert [m.text for m in data.messages] == ["my phone is 138", "hello there"]
    assert [c.wording for c in data.consents] == ["yes please"]
    assert data.tags == ("vip",)
    assert [d.text for d in data.deferred] == ["later"]
    assert [o.text for o in data.outbox] == ["hello there"]
    assert [e.subject for e in data.audit] == [f"message:{data.messages[0].id}"]
    assert [(f.flow, dict(f.slots)) for f in data.flows] == [("order", {"phone": "13800138000"})]


async def test_erase_deletes_every_row_of_the_contact_and_nothing_else(store: Store) -> None:
    alice = await make_party(store, external_id="alice")
    bob = await make_party(store, external_id="bob")
    await fill(store, alice)
    await fill(store, bob)

    async with store.transaction() as tx:
        counts = await tx.contact_data.erase(alice.contact.id)

    assert counts.as_dict() == {
        "messages": 2,
        "conversations": 1,
        "consents": 1,
        "tags": 1,
        "deferred": 1,
        "outbox": 1,
        "contacts": 1,
        "events": 0,
        "attributes": 1,
    }
    async with store.transaction(readonly=True) as tx:
        assert await tx.contact_data.export(alice.contact.id) is None
        assert await tx.contacts.find(alice.channel.id, "alice") is None
        kept = await tx.contact_data.export(bob.contact.id)
        assert len(await tx.audit.entries(alice.tenant.id, 0, 10)) == 2, "the audit is kept"
    assert kept is not None
    assert len(kept.messages) == 2
    assert len(kept.consents) == 1
    async with store.transaction(readonly=True) as tx:
        assert [a.value for a in await tx.attributes.of_contact(bob.contact.id)] == ["Suzhou"]


async def test_an_erasure_that_fails_changes_nothing(store: Store) -> None:
    alice = await make_party(store, external_id="alice")
    await fill(store, alice)

    async def erase_then_fail(tx: Transaction) -> None:
        await tx.contact_data.erase(alice.contact.id)
        await tx.audit.add_pending(
            [AuditDraft(alice.tenant.id, T0, "erasure", "x", "x", "erase", "{}")]
        )
        raise RuntimeError("the erasure's transaction fails after its audit entry")

    await raises_in_transaction(store, erase_then_fail)
    async with store.transaction(readonly=True) as tx:
        data = await tx.contact_data.export(alice.contact.id)
    assert data is not None
    assert len(data.messages) == 2
    assert len(data.consents) == 1
