"""One access-token refresher per platform app, shared by every process.

WeChat invalidates the previous token whenever a new one is fetched, so
processes must not refresh independently. Within a process, one asyncio lock
per app key makes refreshes single-flight; across processes, a lease row in
the database lets exactly one process call the token endpoint while the
others wait for the token it stores.

Tokens are renewed ``RENEW_BEFORE`` ahead of expiry. A caller whose token was
rejected (40001/40014/42001) passes it as ``stale``: the token is refetched
(with ``force_refresh``) only if the stored one is still that stale token, so
ten concurrent failures cause one refresh, not ten.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from kindbot.core.errors import KindbotError
from kindbot.core.ports.seams import Clock, Store
from kindbot.core.records.platform import CachedToken, IssuedToken

RENEW_BEFORE = timedelta(minutes=5)
LEASE = timedelta(seconds=30)
WAIT_STEP_S = 0.05
WAIT_LIMIT_S = 10.0

TokenFetcher = Callable[[bool], Awaitable[IssuedToken]]
"""Calls the platform's token endpoint; the argument is ``force_refresh``."""


class TokenUnavailableError(KindbotError):
    """No token could be obtained (the platform refused or another process stalled)."""

    code = "token_unavailable"
    http_status = 503


def usable(cached: CachedToken | None, renew_after: datetime, stale: str | None) -> str | None:
    """The cached token if present, valid beyond ``renew_after`` and not the stale one."""
    if cached is None or cached.token is None or cached.expires_at is None:
        return None
    if cached.token == stale or cached.expires_at <= renew_after:
        return None
    return cached.token


class AccessTokens:
    """Serves access tokens by key (``kind:app id``), refreshing them at most once at a time."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._locks: dict[str, asyncio.Lock] = {}

    async def token(
        self, *, tenant_id: str, key: str, fetch: TokenFetcher, stale: str | None = None
    ) -> str:
        """A valid token for ``key``; ``stale`` is one the platform just rejected."""
        async with self._locks.setdefault(key, asyncio.Lock()):
            waited = 0.0
            while True:
                now = self._clock.now()
                async with self._store.transaction() as tx:
                    cached = await tx.access_tokens.get(key)
                    found = usable(cached, now + RENEW_BEFORE, stale)
                    if found is not None:
                        return found
                    leased = await tx.access_tokens.try_lease(
                        tenant_id=tenant_id,
                        key=key,
                        until=now + LEASE,
                        now=now,
                        fresh_after=now + RENEW_BEFORE,
                        stale=stale,
                    )
                if leased:
                    return await self._refresh(key, fetch, force=stale is not None)
                if waited >= WAIT_LIMIT_S:
                    raise TokenUnavailableError(f"no token for {key}: another refresh stalled")
                await asyncio.sleep(WAIT_STEP_S)  # another process holds the lease
                waited += WAIT_STEP_S

    async def _refresh(self, key: str, fetch: TokenFetcher, *, force: bool) -> str:
        try:
            issued = await fetch(force)
        except BaseException:
            async with self._store.transaction() as tx:
                await tx.access_tokens.end_lease(key)
            raise
        async with self._store.transaction() as tx:
            await tx.access_tokens.save(key=key, token=issued.token, expires_at=issued.expires_at)
        return issued.token
