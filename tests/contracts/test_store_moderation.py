"""The storage contract, moderation terms: scopes, duplicates, removal, generations."""

from __future__ import annotations

from kindbot.core.ports.seams import Store
from kindbot.core.records.moderation import TermAction
from tests.contracts.builders import at, make_tenant


async def test_terms_are_kept_per_scope_and_bump_that_scope(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        assert await tx.moderation_terms.generations() == {}
        platform = await tx.moderation_terms.add(
            tenant_id=None,
            term="刷信用",
            category="fraud",
            action=TermAction.DENY,
            created_by="ops",
            now=at(0),
        )
        own = await tx.moderation_terms.add(
            tenant_id=tenant.id,
            term="威信茶社",
            category=None,
            action=TermAction.ALLOW,
            created_by="admin",
            now=at(1),
        )

    assert platform is not None
    assert own is not None
    async with store.transaction(readonly=True) as tx:
        assert await tx.moderation_terms.in_scope(None) == [platform]
        assert await tx.moderation_terms.in_scope(tenant.id) == [own]
        assert await tx.moderation_terms.all() == [platform, own]
        assert await tx.moderation_terms.generations() == {"platform": 1, tenant.id: 1}
    assert own.created_at == at(1)
    assert own.action is TermAction.ALLOW
    assert own.category is None


async def test_a_duplicate_is_refused_and_changes_nothing(store: Store) -> None:
    async with store.transaction() as tx:
        first = await tx.moderation_terms.add(
            tenant_id=None,
            term="快三",
            category="gambling",
            action=TermAction.FLAG,
            created_by="ops",
            now=at(0),
        )
        again = await tx.moderation_terms.add(
            tenant_id=None,
            term="快三",
            category="gambling",
            action=TermAction.DENY,
            created_by="ops",
            now=at(1),
        )
        assert first is not None
        assert again is None
        assert await tx.moderation_terms.generations() == {"platform": 1}


async def test_removing_deletes_only_that_scope_and_bumps_it(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        for scope in (None, tenant.id):
            await tx.moderation_terms.add(
                tenant_id=scope,
                term="菠菜群",
                category="gambling",
                action=TermAction.DENY,
                created_by="ops",
                now=at(0),
            )
    async with store.transaction() as tx:
        assert await tx.moderation_terms.remove(tenant.id, "菠菜群") == 1
        assert await tx.moderation_terms.remove(tenant.id, "菠菜群") == 0
        assert [t.term for t in await tx.moderation_terms.in_scope(None)] == ["菠菜群"]
        assert await tx.moderation_terms.generations() == {"platform": 1, tenant.id: 2}
