"""Two kindbot processes on one PostgreSQL database and one Redis share the guard's counters.

Each container is a full composition root (its own engine, its own Redis
client) as a second ``kindbot serve`` would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.conftest import TEST_SECRET_KEY
from tests.support.clock import FakeClock
from tests.support.contacts import consent, proactive_request, visitor
from tests.support.databases import REDIS_ENV, MigratedPostgres, require_env

from kindbot.bootstrap import Container, open_container
from kindbot.core.events import Decision
from kindbot.guard.counting import proactive_keys
from kindbot.settings import Settings


@pytest.fixture
def container_backend() -> str:
    """PostgreSQL only: SQLite is one machine's database."""
    return "postgres"


@pytest.fixture
async def settings(tmp_path: Path, postgres_databases: MigratedPostgres) -> AsyncIterator[Settings]:
    """A migrated, empty PostgreSQL database and the test Redis."""
    redis_url = require_env(REDIS_ENV)
    async with postgres_databases.database() as url:
        yield Settings(
            data_dir=tmp_path / "data",
            database_url=url,
            redis_url=redis_url,
            secret_key=TEST_SECRET_KEY,
        )


async def test_concurrent_sends_from_two_processes_respect_the_daily_cap(
    container: Container, settings: Settings, clock: FakeClock
) -> None:
    contact = await visitor(container, clock, "v1")
    await consent(container, contact, "new-tea")
    async with open_container(settings, clock=clock) as other:
        outcomes = await asyncio.gather(
            *(
                process.proactive.send(proactive_request(contact, f"第{i}条"))
                for i in range(5)
                for process in (container, other)
            )
        )

        decisions = sorted(o.decision.value for o in outcomes)
        assert decisions == ["allow"] + ["deny"] * 9
        assert all(o.verdict.rule == "frequency" for o in outcomes if o.decision is Decision.DENY)
        keys = proactive_keys(
            tenant_id=contact.tenant_id,
            contact_id=contact.id,
            channel_id=contact.channel_id,
            timezone="Asia/Shanghai",
            now=clock.now(),
        )
        assert await other.counters.peek([keys.contact_day, keys.tenant_day]) == [1, 1]
