"""Two processes writing one SQLite file: the second writer waits for the first.

Each :class:`~kindbot.storage.sql_store.SqlStore` below stands for a process
of its own (its own engine and connections on the same file). The inline
engine begins a writing transaction with ``BEGIN IMMEDIATE`` straight on the
sqlite3 connection (``storage/engine.py``); when another process holds the
write lock that fails with ``database is locked`` after a few milliseconds,
and the store retries asynchronously (``sql_store._begin_inline``) until the
lock is free — a wait, never an error.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from kindbot.storage.sql_store import SqlStore


async def test_a_writer_waits_for_another_process_holding_the_write_lock(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    first, second = SqlStore.for_url(url), SqlStore.for_url(url)
    order: list[str] = []

    async def write_second() -> None:
        async with second.transaction():
            order.append("second began")

    try:
        async with first.transaction():
            waiting = asyncio.create_task(write_second())
            await asyncio.sleep(0.1)  # several of the second writer's retries
            assert not waiting.done(), "began while the first process held the write lock"
            order.append("first commits")
        await asyncio.wait_for(waiting, timeout=5)
        assert order == ["first commits", "second began"]
        async with second.engine.connect() as conn:  # both connections still usable
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await first.close()
        await second.close()
