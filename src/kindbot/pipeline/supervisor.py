"""Owned background tasks: every task is started here and drained on shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

RESTART_DELAY_S = 1.0


class TaskSupervisor:
    """Runs long-lived loops; restarts a loop that crashes; cancels and awaits all on close."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    def start(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        """Run ``loop()`` until the supervisor closes; a crash is logged and the loop restarted."""
        if self._closing:
            raise RuntimeError("supervisor is closing")
        task = asyncio.create_task(self._guarded(name, loop), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        while not self._closing:
            try:
                await loop()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %s crashed; restarting", name)
                await asyncio.sleep(RESTART_DELAY_S)

    @property
    def running(self) -> int:
        """How many tasks are alive."""
        return len(self._tasks)

    async def aclose(self) -> None:
        """Cancel every task and wait for all of them to finish."""
        self._closing = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
