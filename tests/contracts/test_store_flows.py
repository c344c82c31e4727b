"""Flow definitions and flow states on every backend: upsert, replace, clear, erasure."""

from __future__ import annotations

from kindbot.core.ports.seams import Store
from kindbot.core.records.flows import FlowDefinitions, FlowState
from tests.contracts.builders import at, make_party


def state(name: str, **slots: str) -> FlowState:
    return FlowState("order-status", name, tuple(sorted(slots.items())), 1, "zh", at(3))


async def test_definitions_are_stored_replaced_and_removed(store: Store) -> None:
    party = await make_party(store)
    tenant = party.tenant.id
    first = FlowDefinitions('{"format":1,"flows":[]}', "sealed-1", at(1))
    second = FlowDefinitions('{"format":1,"flows":[1]}', None, at(2))
    async with store.transaction() as tx:
        assert await tx.flows.definitions(tenant) is None
        assert await tx.flows.replace_definitions(tenant, first)
        assert await tx.flows.definitions(tenant) == first
        assert await tx.flows.replace_definitions(tenant, second)
    async with store.transaction(readonly=True) as tx:
        assert await tx.flows.definitions(tenant) == second
        assert await tx.flows.definitions("other-tenant") is None
    async with store.transaction() as tx:
        assert await tx.flows.replace_definitions(tenant, None)
        assert not await tx.flows.replace_definitions(tenant, None)
        assert await tx.flows.definitions(tenant) is None


async def test_a_conversation_has_one_flow_state_that_survives_the_transaction(
    store: Store,
) -> None:
    party = await make_party(store)
    cid = party.conversation.id
    ids = {"tenant_id": party.tenant.id, "conversation_id": cid, "contact_id": party.contact.id}
    async with store.transaction() as tx:
        assert await tx.flows.state(cid) is None
        await tx.flows.save_state(**ids, state=state("ask"))
        await tx.flows.save_state(**ids, state=state("tell", order="A12345678", 号码="1"))
    async with store.transaction(readonly=True) as tx:
        assert await tx.flows.state(cid) == state("tell", order="A12345678", 号码="1")
    async with store.transaction() as tx:
        assert await tx.flows.clear_state(cid)
        assert not await tx.flows.clear_state(cid)
        assert await tx.flows.state(cid) is None


async def test_erasing_a_contact_erases_its_flow_state(store: Store) -> None:
    party = await make_party(store)
    cid = party.conversation.id
    async with store.transaction() as tx:
        await tx.flows.save_state(
            tenant_id=party.tenant.id,
            conversation_id=cid,
            contact_id=party.contact.id,
            state=state("ask", phone="13800138000"),
        )
    async with store.transaction() as tx:
        await tx.contact_data.erase(party.contact.id)
    async with store.transaction(readonly=True) as tx:
        assert await tx.flows.state(cid) is None


async def test_the_flow_states_of_a_tenant_are_listed_last_moved_first(store: Store) -> None:
    party = await make_party(store)
    ids = {"tenant_id": party.tenant.id, "contact_id": party.contact.id}
    async with store.transaction() as tx:
        await tx.flows.save_state(**ids, conversation_id=party.conversation.id, state=state("ask"))
    async with store.transaction(readonly=True) as tx:
        listed = await tx.flows.states_of_tenant(party.tenant.id, 10)
        assert await tx.flows.states_of_tenant("other-tenant", 10) == []
    assert [(f.conversation_id, f.contact_id, f.state) for f in listed] == [
        (party.conversation.id, party.contact.id, state("ask"))
    ]
