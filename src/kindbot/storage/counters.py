"""The guard's send counters: in the database by default, in Redis when configured.

Both implement :class:`kindbot.core.ports.seams.SendCounters`; ``tests/contracts/test_counters.py``
runs one suite against each. :func:`open_counters` picks one from the settings.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from redis.asyncio import Redis

from kindbot.core.ports.seams import SendCounters, Store, Transaction
from kindbot.core.records.counters import CounterLimit

MGET_CHUNK = 1_000
MIN_LIFETIME_MS = 60_000
"""Keys name their period, so expiry only collects garbage; it never cuts a period short."""

# KEYS: counter keys. ARGV: n limits, then n lifetimes (ms).
# Atomic in Redis: either every key is incremented, or none (returns the
# 1-based index of the first key at its limit).
_RESERVE = """
local n = #KEYS
for i = 1, n do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count >= tonumber(ARGV[i]) then return i end
end
for i = 1, n do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[n + i])
end
return 0
"""

_RELEASE = """
for i = 1, #KEYS do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
"""


class DatabaseCounters:
    """Counters in the ``guard_counters`` table; each call is its own transaction."""

    joins_transactions = True

    def __init__(self, store: Store) -> None:
        self._store = store

    async def peek(self, keys: Sequence[str]) -> list[int]:
        async with self._store.transaction(readonly=True) as tx:
            return await tx.counters.peek(keys)

    async def reserve(self, limits: Sequence[CounterLimit]) -> str | None:
        async with self._store.transaction() as tx:
            return await tx.counters.reserve(limits)

    async def release(self, keys: Sequence[str]) -> None:
        async with self._store.transaction() as tx:
            await tx.counters.release(keys)

    async def reserve_within(self, tx: Transaction, limits: Sequence[CounterLimit]) -> str | None:
        """In the caller's transaction: the reservation commits or rolls back with the send."""
        return await tx.counters.reserve(limits)

    async def close(self) -> None:
        """Nothing to close: the store belongs to the container."""


class RedisCounters:
    """Counters as Redis keys with expiry; ``reserve`` is one Lua script (one round trip)."""

    joins_transactions = False

    def __init__(self, client: Redis) -> None:
        self._client = client
        self._reserve = client.register_script(_RESERVE)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str) -> RedisCounters:
        """Counters on the Redis server at ``url`` (connects lazily)."""
        return cls(Redis.from_url(url))

    async def peek(self, keys: Sequence[str]) -> list[int]:
        counts: list[int] = []
        for start in range(0, len(keys), MGET_CHUNK):
            values = await self._client.mget(list(keys[start : start + MGET_CHUNK]))
            counts.extend(int(value) if value is not None else 0 for value in values)
        return counts

    async def reserve(self, limits: Sequence[CounterLimit]) -> str | None:
        if not limits:
            return None
        keys = [limit.key for limit in limits]
        now = time.time()
        argv = [limit.limit for limit in limits] + [
            max(MIN_LIFETIME_MS, int((limit.expires_at.timestamp() - now) * 1000))
            for limit in limits
        ]
        refused = int(await self._reserve(keys=keys, args=argv))
        return keys[refused - 1] if refused else None

    async def release(self, keys: Sequence[str]) -> None:
        if keys:
            await self._release(keys=list(keys), args=[])

    async def reserve_within(self, tx: Transaction, limits: Sequence[CounterLimit]) -> str | None:
        """Redis cannot join ``tx``: reserves at once; the caller releases if ``tx`` fails."""
        return await self.reserve(limits)

    async def close(self) -> None:
        await self._client.aclose()


def open_counters(store: Store, redis_url: str | None) -> SendCounters:
    """Redis counters when ``redis_url`` is set, else the database's."""
    if redis_url:
        return RedisCounters.from_url(redis_url)
    return DatabaseCounters(store)
