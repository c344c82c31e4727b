"""Lexicon edits reach the screener without a restart, about a check interval later,
and asking for the screener never waits for a database connection once one exists."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from tests.contracts.builders import at, make_tenant

from kindbot.core.records.moderation import TermAction
from kindbot.core.screening import ContentContext, Direction, ScreeningLevel
from kindbot.pipeline.admit.screening_source import ModerationScreeners
from kindbot.storage.engine import PoolLimits
from kindbot.storage.sql_store import SqlStore


class Ticker:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def add(store: SqlStore, tenant_id: str | None, term: str, action: TermAction) -> None:
    async with store.transaction() as tx:
        category = None if action is TermAction.ALLOW else "fraud"
        await tx.moderation_terms.add(
            tenant_id=tenant_id,
            term=term,
            category=category,
            action=action,
            created_by="test",
            now=at(0),
        )


async def test_edits_apply_after_the_check_interval(store: SqlStore) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
    ticker = Ticker()
    source = ModerationScreeners(store, check_interval=1.0, monotonic=ticker)
    own = ContentContext(Direction.OUTBOUND, tenant_id=tenant.id)
    text = "领取养老补贴"

    first = await source.current()
    assert first.screen(text, own).level is ScreeningLevel.OK

    await add(store, tenant.id, "养老补贴", TermAction.DENY)
    assert await source.current() is first, "no database read within the interval"

    ticker.now += 1.0
    assert await source.current() is first, "the due check runs in the background"
    await source.settled()
    second = await source.current()
    assert second is not first
    assert second.screen(text, own).level is ScreeningLevel.BLOCK
    assert second.screen(text, ContentContext(Direction.OUTBOUND)).level is ScreeningLevel.OK

    ticker.now += 1.0
    await source.current()
    await source.settled()
    assert await source.current() is second, "nothing changed, nothing rebuilt"


async def test_platform_edits_reach_every_tenant(store: SqlStore) -> None:
    ticker = Ticker()
    source = ModerationScreeners(store, check_interval=1.0, monotonic=ticker)
    await source.current()
    await add(store, None, "养老补贴", TermAction.DENY)
    ticker.now += 5
    await source.current()
    await source.settled()
    screener = await source.current()
    context = ContentContext(Direction.OUTBOUND, tenant_id="anyone")
    assert screener.screen("领取养老补贴", context).level is ScreeningLevel.BLOCK


async def test_a_due_check_never_waits_for_a_connection_the_caller_may_hold(
    store: SqlStore,
) -> None:
    """Every pooled connection held by callers asking for the screener: the answer
    comes at once (it used to wait for a connection until the pool's timeout)."""
    url = store.engine.url.render_as_string(hide_password=False)
    small = SqlStore.for_url(url, PoolLimits(size=1, timeout_s=5.0))
    ticker = Ticker()
    source = ModerationScreeners(small, check_interval=1.0, monotonic=ticker)
    try:
        first = await source.current()
        async with AsyncExitStack() as held:
            for _ in range(2):  # size 1, and as many again under load: the whole pool
                await held.enter_async_context(small.transaction(readonly=True))
            ticker.now += 1.0
            assert await asyncio.wait_for(source.current(), 1.0) is first
        await source.settled()  # the check ran once a connection was free
    finally:
        await source.aclose()
        await small.close()
