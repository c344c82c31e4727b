"""The shared access-token refresher: single flight within and across processes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container
from kindbot.core.records.platform import IssuedToken
from kindbot.pipeline.deliver.tokens import AccessTokens

KEY = "wechat_oa:wx123"


class CountingIssuer:
    """Issues t1, t2, … valid for 7,200 s; records how it was asked."""

    def __init__(self, clock: FakeClock, *, fail_first: bool = False) -> None:
        self.clock = clock
        self.calls: list[bool] = []
        self.fail_first = fail_first

    async def __call__(self, force: bool) -> IssuedToken:
        self.calls.append(force)
        await asyncio.sleep(0)  # let other waiters pile up
        if self.fail_first and len(self.calls) == 1:
            raise RuntimeError("token endpoint down")
        return IssuedToken(f"t{len(self.calls)}", self.clock.now() + timedelta(seconds=7200))


async def tenant_id(container: Container) -> str:
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
    assert tenant is not None
    return tenant.id


async def test_concurrent_callers_in_two_processes_cause_one_fetch(
    container: Container, clock: FakeClock
) -> None:
    issuer = CountingIssuer(clock)
    tid = await tenant_id(container)
    process_a = AccessTokens(container.store, clock)
    process_b = AccessTokens(container.store, clock)
    tokens = await asyncio.gather(
        *(p.token(tenant_id=tid, key=KEY, fetch=issuer) for p in [process_a, process_b] * 10)
    )
    assert set(tokens) == {"t1"}
    assert issuer.calls == [False]


async def test_renewed_five_minutes_before_expiry(container: Container, clock: FakeClock) -> None:
    issuer = CountingIssuer(clock)
    tid = await tenant_id(container)
    tokens = AccessTokens(container.store, clock)
    assert await tokens.token(tenant_id=tid, key=KEY, fetch=issuer) == "t1"
    clock.advance(timedelta(seconds=7200 - 301))
    assert await tokens.token(tenant_id=tid, key=KEY, fetch=issuer) == "t1"
    clock.advance(timedelta(seconds=2))
    assert await tokens.token(tenant_id=tid, key=KEY, fetch=issuer) == "t2"


async def test_rejected_token_is_refreshed_once_with_force(
    container: Container, clock: FakeClock
) -> None:
    issuer = CountingIssuer(clock)
    tid = await tenant_id(container)
    tokens = AccessTokens(container.store, clock)
    first = await tokens.token(tenant_id=tid, key=KEY, fetch=issuer)
    refreshed = await asyncio.gather(
        *(tokens.token(tenant_id=tid, key=KEY, fetch=issuer, stale=first) for _ in range(10))
    )
    assert set(refreshed) == {"t2"}
    assert issuer.calls == [False, True]


async def test_failed_fetch_releases_the_lease(container: Container, clock: FakeClock) -> None:
    issuer = CountingIssuer(clock, fail_first=True)
    tid = await tenant_id(container)
    tokens = AccessTokens(container.store, clock)
    with pytest.raises(RuntimeError):
        await tokens.token(tenant_id=tid, key=KEY, fetch=issuer)
    assert await tokens.token(tenant_id=tid, key=KEY, fetch=issuer) == "t2"
