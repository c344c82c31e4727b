"""Every write that changes what processes cache of a tenant moves its revision on.

Processes remember a tenant's row, channels, flow definitions and knowledge-base
version and trust them while ``tenants.revision`` stays put
(``pipeline/tenant_cache.py``). A write method that forgot to bump would leave
every other process on stale data, so each write method of those repositories
is listed here with how to call it, and a method nobody classified fails the
suite: a new writer must be added to :data:`BUMPS` (and bump) or, if it touches
nothing cached, to :data:`NOT_CACHED` with the reason.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.flows import FlowDefinitions
from kindbot.core.records.knowledge import KbTuning, KnowledgeEntry
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord, TenantStatus
from kindbot.storage.repos_core import SqlChannels, SqlTenants
from kindbot.storage.repos_flows import SqlFlows
from kindbot.storage.repos_kb import SqlKnowledgeSettings
from kindbot.storage.repos_ledger import SqlKnowledge
from tests.contracts.builders import T0, enqueue_reply, make_channel, make_party, make_tenant

Write = Callable[[Transaction, TenantRecord, ChannelRecord], Awaitable[object]]

_FLOWS = FlowDefinitions('{"flows": []}', None, datetime(2026, 11, 25, tzinfo=UTC))


async def _upsert_tenant(tx: Transaction, tenant: TenantRecord, _: ChannelRecord) -> object:
    return await tx.tenants.upsert(
        slug=tenant.slug,
        name="Renamed",
        industry=tenant.industry,
        timezone="Asia/Shanghai",
        language=tenant.language,
        kb_threshold=0.5,
        now=T0,
    )


async def _upsert_channel(tx: Transaction, tenant: TenantRecord, ch: ChannelRecord) -> object:
    return await tx.channels.upsert(
        tenant_id=tenant.id,
        public_id=ch.public_id,
        local_id=ch.local_id,
        kind=ch.kind,
        config_sealed="rotated",
    )


async def _new_channel(tx: Transaction, tenant: TenantRecord, _: ChannelRecord) -> object:
    return await make_channel(tx, tenant, "second")


async def _delete_entry(tx: Transaction, tenant: TenantRecord, _: ChannelRecord) -> object:
    await tx.knowledge.upsert_many(tenant.id, [KnowledgeEntry("q9", "能刻字吗", "可以")])
    added = await tx.tenants.get(tenant.id)
    assert added is not None
    assert await tx.knowledge.delete_many(tenant.id, ["q9", "no-such-entry"]) == 1
    deleted = await tx.tenants.get(tenant.id)
    assert deleted is not None
    assert deleted.revision > added.revision, "the delete itself moves the revision on"
    return deleted


BUMPS: dict[str, Write] = {
    "SqlTenants.upsert": _upsert_tenant,
    "SqlTenants.set_status": lambda tx, t, _: tx.tenants.set_status(t.id, TenantStatus.SUSPENDED),
    "SqlTenants.set_guard": lambda tx, t, _: tx.tenants.set_guard(t.id, "{}"),
    "SqlTenants.set_handlers": lambda tx, t, _: tx.tenants.set_handlers(t.id, ["shop"]),
    "SqlTenants.set_service_hours": lambda tx, t, _: tx.tenants.set_service_hours(t.id, "{}"),
    "SqlTenants.set_llm": lambda tx, t, _: tx.tenants.set_llm(t.id, "sealed"),
    "SqlTenants.set_standing": lambda tx, t, _: tx.tenants.set_standing(t.id, "warning"),
    "SqlChannels.upsert": _upsert_channel,
    "SqlChannels.upsert (a new channel)": _new_channel,
    "SqlChannels.set_enabled": lambda tx, _, c: tx.channels.set_enabled(c.id, False),
    "SqlFlows.replace_definitions": lambda tx, t, _: tx.flows.replace_definitions(t.id, _FLOWS),
    "SqlKnowledge.upsert_many": lambda tx, t, _: tx.knowledge.upsert_many(
        t.id, [KnowledgeEntry("q1", "运费怎么算", "满99元包邮")]
    ),
    "SqlKnowledge.delete_many": _delete_entry,
    "SqlKnowledgeSettings.replace_synonyms": lambda tx, t, _: tx.kb.replace_synonyms(
        t.id, [("运费", "邮费")]
    ),
    "SqlKnowledgeSettings.save_tuning": lambda tx, t, _: tx.kb.save_tuning(
        t.id, KbTuning(0.4, 10, 0.9, T0)
    ),
}
"""Each write method that changes what is cached, and a call of it that changes something."""

READS = {
    "SqlTenants": {"get", "get_by_slug", "list"},
    "SqlChannels": {"get", "get_by_public_id", "list_for_tenant"},
    "SqlFlows": {"definitions", "state", "states_of_tenant"},
    "SqlKnowledge": {"list", "version"},
    "SqlKnowledgeSettings": {"synonyms", "tuning", "inbound_questions", "vectors", "model"},
}
NOT_CACHED = {
    "SqlFlows.save_state": "a conversation's flow state, read with every message",
    "SqlFlows.clear_state": "a conversation's flow state, read with every message",
    "SqlKnowledgeSettings.add_vectors": "sentence vectors are kept by text, outside kb_version",
    "SqlKnowledgeSettings.drop_vectors": "sentence vectors are kept by text, outside kb_version",
    "SqlKnowledgeSettings.claim_model": "a fit's lease, of a kb_version that already counts",
    "SqlKnowledgeSettings.save_model": "a fitted model of a kb_version that already counts",
}
REPOSITORIES = (SqlTenants, SqlChannels, SqlFlows, SqlKnowledge, SqlKnowledgeSettings)


def test_every_method_of_the_cached_repositories_is_classified() -> None:
    bumping = {name.split(" ")[0] for name in BUMPS}
    for repository in REPOSITORIES:
        methods = {
            name
            for name, _ in inspect.getmembers(repository, inspect.iscoroutinefunction)
            if not name.startswith("_")
        }
        for method in methods - READS[repository.__name__]:
            qualified = f"{repository.__name__}.{method}"
            assert qualified in bumping or qualified in NOT_CACHED, (
                f"{qualified} writes: bump the tenant's revision (storage/revisions.py) and "
                "list it in BUMPS, or say in NOT_CACHED why processes do not cache what it writes"
            )


@pytest.mark.parametrize("write", list(BUMPS))
async def test_a_write_of_what_is_cached_moves_the_tenants_revision_on(
    store: Store, write: str
) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        channel = await make_channel(tx, tenant)
        before = await tx.tenants.get(tenant.id)
    assert before is not None
    async with store.transaction() as tx:
        await BUMPS[write](tx, before, channel)
        after = await tx.tenants.get(tenant.id)
    assert after is not None
    assert after.revision > before.revision


async def test_a_new_tenant_starts_at_revision_zero_and_reads_do_not_move_it(
    store: Store,
) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx, "fresh")
    assert tenant.revision == 0
    async with store.transaction() as tx:
        channel = await make_channel(tx, tenant)
        moved = await tx.tenants.get(tenant.id)
        await tx.channels.get(channel.id)
        await tx.flows.definitions(tenant.id)
        await tx.knowledge.version(tenant.id)
        again = await tx.tenants.get(tenant.id)
    assert moved is not None
    assert again == moved
    assert moved.revision == 1  # the channel's creation


async def test_claimed_outbox_items_carry_their_tenants_current_revision(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        await enqueue_reply(tx, party, not_before=T0)
        await tx.tenants.set_status(party.tenant.id, TenantStatus.SUSPENDED)
        current = await tx.tenants.get(party.tenant.id)
    assert current is not None
    async with store.transaction() as tx:
        claimed = await tx.outbox.claim_due(T0, T0 + timedelta(minutes=1), 10)
    assert [c.tenant_revision for c in claimed] == [current.revision]


async def test_an_upsert_that_changes_nothing_keeps_the_revision(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
    async with store.transaction() as tx:
        again = await make_tenant(tx)
    assert again == tenant
