"""The storage contract for the WeCom channel: 微信客服 sync cursors per (channel, open_kfid)."""

from __future__ import annotations

import asyncio

from kindbot.core.ports.seams import Store, Transaction
from tests.contracts.builders import at, make_channel, make_tenant, raises_in_transaction


async def test_a_cursor_is_absent_until_saved_then_overwritten(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        channel = await make_channel(tx, tenant, "wecom")
        assert await tx.kf_cursors.get(channel.id, "wk1") is None
        await tx.kf_cursors.save(
            tenant_id=tenant.id, channel_id=channel.id, open_kfid="wk1", cursor="c1", now=at(0)
        )
    async with store.transaction() as tx:
        assert await tx.kf_cursors.get(channel.id, "wk1") == "c1"
        await tx.kf_cursors.save(
            tenant_id=tenant.id, channel_id=channel.id, open_kfid="wk1", cursor="c2", now=at(1)
        )
    async with store.transaction(readonly=True) as tx:
        assert await tx.kf_cursors.get(channel.id, "wk1") == "c2"


async def test_cursors_are_kept_per_channel_and_per_account(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        first = await make_channel(tx, tenant, "wecom")
        second = await make_channel(tx, tenant, "wecom2")
        for channel, kfid, cursor in [
            (first, "wk1", "a"),
            (first, "wk2", "b"),
            (second, "wk1", "c"),
        ]:
            await tx.kf_cursors.save(
                tenant_id=tenant.id, channel_id=channel.id, open_kfid=kfid, cursor=cursor, now=at(0)
            )
    async with store.transaction() as tx:
        assert await tx.kf_cursors.get(first.id, "wk1") == "a"
        assert await tx.kf_cursors.get(first.id, "wk2") == "b"
        assert await tx.kf_cursors.get(second.id, "wk1") == "c"
        assert await tx.kf_cursors.get(second.id, "wk2") is None


async def test_a_rolled_back_save_leaves_the_old_cursor(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        channel = await make_channel(tx, tenant, "wecom")
        await tx.kf_cursors.save(
            tenant_id=tenant.id, channel_id=channel.id, open_kfid="wk1", cursor="kept", now=at(0)
        )

    async def save_then_fail(tx: Transaction) -> None:
        await tx.kf_cursors.save(
            tenant_id=tenant.id, channel_id=channel.id, open_kfid="wk1", cursor="lost", now=at(1)
        )
        raise RuntimeError("the pull failed after saving")

    await raises_in_transaction(store, save_then_fail)
    async with store.transaction() as tx:
        assert await tx.kf_cursors.get(channel.id, "wk1") == "kept"


async def test_concurrent_first_saves_never_raise(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        channel = await make_channel(tx, tenant, "wecom")

    async def save(cursor: str) -> None:
        async with store.transaction() as tx:
            await tx.kf_cursors.save(
                tenant_id=tenant.id,
                channel_id=channel.id,
                open_kfid="wk1",
                cursor=cursor,
                now=at(0),
            )

    await asyncio.gather(*(save(f"c{i}") for i in range(5)))
    async with store.transaction() as tx:
        assert await tx.kf_cursors.get(channel.id, "wk1") in {f"c{i}" for i in range(5)}
