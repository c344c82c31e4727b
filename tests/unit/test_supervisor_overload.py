"""Overload in an owned task is one WARNING line, not an error with a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from kindbot.core.errors import StorageBusyError
from kindbot.pipeline.supervisor import TaskSupervisor


def one_warning(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    records = [r for r in caplog.records if r.name == "kindbot.pipeline.supervisor"]
    assert [r.levelname for r in records] == ["WARNING"], caplog.text
    assert records[0].exc_info is None
    assert "storage_busy" in records[0].getMessage()
    return records[0]


async def test_a_job_that_meets_a_busy_database_logs_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = TaskSupervisor()

    async def job() -> None:
        raise StorageBusyError("no connection free")

    task = supervisor.spawn("feed:k1", job())
    with contextlib.suppress(StorageBusyError):
        await task
    await asyncio.sleep(0)  # the done callback
    assert "feed:k1" in one_warning(caplog).getMessage()
    await supervisor.aclose()


async def test_a_loop_that_meets_a_busy_database_logs_one_warning_and_restarts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = TaskSupervisor()
    runs: list[int] = []
    finished = asyncio.Event()

    async def loop() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise StorageBusyError("no connection free")
        finished.set()

    supervisor.start("outbox", loop)
    await asyncio.wait_for(finished.wait(), timeout=30)
    assert runs == [0, 1]
    assert "outbox" in one_warning(caplog).getMessage()
    await supervisor.aclose()
