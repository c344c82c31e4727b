"""One contract suite for the guard's send counters: database (SQLite, PostgreSQL) and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from kindbot.core.ports.seams import SendCounters
from kindbot.core.records.counters import CounterLimit
from kindbot.storage.counters import DatabaseCounters, RedisCounters
from kindbot.storage.sql_store import SqlStore
from tests.contracts.builders import T0
from tests.support.databases import REDIS_ENV, require_env

LATER = T0 + timedelta(days=2)


@pytest.fixture(params=["database", "redis"])
async def counters(request: pytest.FixtureRequest, store: SqlStore) -> AsyncIterator[SendCounters]:
    """Counters on each backend; Redis runs once (beside the SQLite store) under a key prefix."""
    if request.param == "database":
        yield DatabaseCounters(store)
        return
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the Redis counters run once, beside the SQLite store")
    redis = RedisCounters.from_url(require_env(REDIS_ENV))
    yield redis
    await redis.close()


def key(name: str) -> str:
    """A key unique to this test run (Redis is shared between runs)."""
    return f"test:{uuid.uuid4().hex}:{name}"


async def test_unknown_keys_count_zero(counters: SendCounters) -> None:
    assert await counters.peek([key("a"), key("b")]) == [0, 0]


async def test_reserve_counts_up_to_the_limit(counters: SendCounters) -> None:
    day = key("day")
    limits = [CounterLimit(day, 2, LATER)]
    assert await counters.reserve(limits) is None
    assert await counters.reserve(limits) is None
    assert await counters.reserve(limits) == day
    assert await counters.peek([day]) == [2]


async def test_reserve_is_all_or_nothing(counters: SendCounters) -> None:
    day, month = key("day"), key("month")
    assert await counters.reserve([CounterLimit(month, 1, LATER)]) is None
    refused = await counters.reserve([CounterLimit(day, 1, LATER), CounterLimit(month, 1, LATER)])
    assert refused == month
    assert await counters.peek([day, month]) == [0, 1]


async def test_a_zero_limit_refuses(counters: SendCounters) -> None:
    blocked = key("blocked")
    assert await counters.reserve([CounterLimit(blocked, 0, LATER)]) == blocked
    assert await counters.peek([blocked]) == [0]


async def test_release_gives_back_and_never_goes_negative(counters: SendCounters) -> None:
    day = key("day")
    assert await counters.reserve([CounterLimit(day, 1, LATER)]) is None
    await counters.release([day])
    await counters.release([day])
    assert await counters.peek([day]) == [0]
    assert await counters.reserve([CounterLimit(day, 1, LATER)]) is None


async def test_concurrent_reservations_never_exceed_the_limit(counters: SendCounters) -> None:
    day = key("day")
    results = await asyncio.gather(
        *(counters.reserve([CounterLimit(day, 5, LATER)]) for _ in range(20))
    )
    assert sum(result is None for result in results) == 5
    assert await counters.peek([day]) == [5]


async def test_peek_many_keys_in_order(counters: SendCounters) -> None:
    keys = [key(str(i)) for i in range(1_203)]
    assert await counters.reserve([CounterLimit(keys[7], 3, LATER)]) is None
    assert await counters.reserve([CounterLimit(keys[1_202], 3, LATER)]) is None
    counts = await counters.peek(keys)
    assert len(counts) == 1_203
    assert counts[7] == 1
    assert counts[1_202] == 1
    assert sum(counts) == 2


async def test_peek_many_keys_of_one_family(counters: SendCounters) -> None:
    family = key("family")
    keys = [f"{family}:{i:05d}" for i in range(2_500)]
    for index in (0, 1_234, 2_499):
        assert await counters.reserve([CounterLimit(keys[index], 5, LATER)]) is None
    await counters.reserve([CounterLimit(f"{family}-other", 5, LATER)])

    counts = await counters.peek(keys)

    assert len(counts) == 2_500
    assert [i for i, count in enumerate(counts) if count] == [0, 1_234, 2_499]
