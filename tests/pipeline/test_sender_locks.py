"""One sender's messages are processed one at a time: in one process, and across
processes with Redis (``pipeline/receive/sender_locks.py``).

Two :class:`RedisSenderLocks` on one Redis stand for two server processes.
Channel ids are fresh per test, so runs never share a lock.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import redis.asyncio as aioredis
from tests.support.databases import REDIS_ENV, require_env

from kindbot.bootstrap import open_container
from kindbot.pipeline.receive.sender_locks import (
    LocalSenderLocks,
    RedisSenderLocks,
    lock_name,
)
from kindbot.settings import Settings

BLOCKED_S = 0.3
FREE_S = 10.0


@pytest.fixture
async def processes() -> AsyncIterator[tuple[RedisSenderLocks, RedisSenderLocks]]:
    url = require_env(REDIS_ENV)
    first, second = RedisSenderLocks.from_url(url), RedisSenderLocks.from_url(url)
    yield first, second
    await first.aclose()
    await second.aclose()


def channel() -> str:
    return f"ch-{uuid.uuid4().hex}"


async def acquired_within(
    locks: RedisSenderLocks | LocalSenderLocks, key: tuple[str, str], seconds: float = BLOCKED_S
) -> bool:
    """Whether ``locks`` gets ``key`` within ``seconds`` (released at once). A lock that
    is free must be got within :data:`FREE_S` even on a busy machine."""

    async def take() -> None:
        async with locks.hold(*key):
            pass

    try:
        await asyncio.wait_for(take(), seconds)
    except TimeoutError:
        return False
    return True


async def test_a_sender_held_in_one_process_waits_in_the_other(
    processes: tuple[RedisSenderLocks, RedisSenderLocks],
) -> None:
    first, second = processes
    key = (channel(), "openid-1")
    async with first.hold(*key):
        assert not await acquired_within(second, key)
        assert await acquired_within(second, (key[0], "openid-2"), FREE_S), (
            "other senders never wait"
        )
        assert await acquired_within(second, (channel(), key[1]), FREE_S), (
            "nor the same id elsewhere"
        )
    assert await acquired_within(second, key, FREE_S)


async def test_the_waiting_process_goes_on_as_soon_as_the_holder_releases(
    processes: tuple[RedisSenderLocks, RedisSenderLocks],
) -> None:
    first, second = processes
    key = (channel(), "openid")
    order: list[str] = []

    inside = asyncio.Event()

    async def turn(locks: RedisSenderLocks, name: str, hold_s: float) -> None:
        async with locks.hold(*key):
            order.append(f"{name} in")
            inside.set()
            await asyncio.sleep(hold_s)
            order.append(f"{name} out")

    one = asyncio.create_task(turn(first, "first", 0.2))
    await asyncio.wait_for(inside.wait(), 5)
    await asyncio.wait_for(asyncio.gather(one, turn(second, "second", 0)), 5)
    assert order == ["first in", "first out", "second in", "second out"]


async def test_a_lock_whose_holder_died_expires() -> None:
    url = require_env(REDIS_ENV)
    key = (channel(), "openid")
    dead = aioredis.Redis.from_url(url)
    try:
        # A process took the lock and died: nobody will release it.
        # It expires 3 s later (long enough to see the survivor wait first, even on a
        # busy machine).
        assert await dead.set(lock_name(*key), "dead-token", px=3000, nx=True)
        survivor = RedisSenderLocks.from_url(url)
        try:
            assert not await acquired_within(survivor, key)
            async with asyncio.timeout(10):
                async with survivor.hold(*key):
                    pass
        finally:
            await survivor.aclose()
    finally:
        await dead.aclose()


async def test_within_one_process_turns_of_one_sender_never_overlap() -> None:
    locks = LocalSenderLocks()
    key = (channel(), "visitor")
    inside = 0
    most = 0

    async def turn() -> None:
        nonlocal inside, most
        async with locks.hold(*key):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(turn() for _ in range(5)))
    assert most == 1


async def test_without_redis_the_lock_of_this_process_still_holds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    locks = RedisSenderLocks(aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2))
    key = (channel(), "openid")
    try:
        with caplog.at_level(logging.WARNING, logger="kindbot.pipeline.receive.sender_locks"):
            async with locks.hold(*key):
                assert not await acquired_within(locks, key)
        assert "without Redis" in caplog.text
    finally:
        await locks.aclose()


async def test_a_container_with_redis_serialises_senders_across_processes(
    settings: Settings,
) -> None:
    shared = replace(settings, redis_url=require_env(REDIS_ENV))
    async with open_container(shared, auto_migrate=True) as opened:
        assert isinstance(opened.senders, RedisSenderLocks)
    async with open_container(settings, auto_migrate=True) as alone:
        assert isinstance(alone.senders, LocalSenderLocks)
