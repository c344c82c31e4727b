"""Agents and handoffs on every backend: round-robin bookkeeping, exclusive claims, ratings."""

from __future__ import annotations

from kindbot.core.ports.seams import Store
from kindbot.core.records.conversations import ConversationState
from tests.contracts.builders import at, make_party


async def test_agents_are_per_tenant_and_ordered(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        ann = await tx.agents.add(tenant_id=party.tenant.id, name="ann", now=at(0))
        bob = await tx.agents.add(tenant_id=party.tenant.id, name="bob", now=at(1))
        await tx.agents.set_online(bob.id, True)
        await tx.agents.mark_assigned(bob.id, at(5))
    async with store.transaction(readonly=True) as tx:
        listed = await tx.agents.list(party.tenant.id)
        assert [(a.name, a.online) for a in listed] == [("ann", False), ("bob", True)]
        assert listed[1].last_assigned_at == at(5)
        assert await tx.agents.by_name(party.tenant.id, "ann") == ann
        assert await tx.agents.list("other-tenant") == []


async def test_a_claim_is_exclusive_and_a_transfer_needs_the_holder(store: Store) -> None:
    party = await make_party(store)
    cid = party.conversation.id
    async with store.transaction() as tx:
        ann = await tx.agents.add(tenant_id=party.tenant.id, name="ann", now=at(0))
        bob = await tx.agents.add(tenant_id=party.tenant.id, name="bob", now=at(0))
        await tx.handoffs.open(
            tenant_id=party.tenant.id, conversation_id=cid, contact_id=party.contact.id, now=at(1)
        )
        await tx.conversations.set_state(cid, ConversationState.HUMAN)
        assert await tx.handoffs.assign(cid, ann.id, at(2), expected=None)
        assert not await tx.handoffs.assign(cid, bob.id, at(3), expected=None)
        assert not await tx.handoffs.assign(cid, bob.id, at(3), expected=bob.id)
        assert await tx.handoffs.assign(cid, bob.id, at(3), expected=ann.id)
    async with store.transaction(readonly=True) as tx:
        items = await tx.handoffs.inbox(
            party.tenant.id, states=(ConversationState.HUMAN,), agent_id=bob.id
        )
        assert [(i.conversation_id, i.external_id, i.agent_id) for i in items] == [
            (cid, party.contact.external_id, bob.id)
        ]


async def test_the_rating_is_open_from_resolve_to_the_next_message(store: Store) -> None:
    party = await make_party(store)
    cid = party.conversation.id
    async with store.transaction() as tx:
        await tx.handoffs.open(
            tenant_id=party.tenant.id, conversation_id=cid, contact_id=party.contact.id, now=at(1)
        )
        assert await tx.handoffs.open_rating(party.contact.id) is None
        await tx.handoffs.resolve(cid, at(2), ask_rating=True)
        pending = await tx.handoffs.open_rating(party.contact.id)
        assert pending is not None
        assert pending.conversation_id == cid
        await tx.handoffs.close_rating(cid, 4)
        assert await tx.handoffs.open_rating(party.contact.id) is None
        found = await tx.handoffs.get(cid)
        assert found is not None
        assert (found.rating, found.rating_open, found.resolved_at) == (4, False, at(2))
