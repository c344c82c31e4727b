"""Owned background tasks: every task is started here and drained on shutdown.

Two kinds: *loops* run until shutdown (outbox worker, recovery) and are
restarted if they crash; *jobs* are one-shot pieces of work that outlive the
request that started them (a reply still being computed after the WeChat
deadline passed). On close, loops are cancelled at once and jobs get
``drain_timeout`` seconds to finish before they are cancelled too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from kindbot.core.errors import KindbotError, StorageBusyError

log = logging.getLogger(__name__)

T = TypeVar("T")

RESTART_DELAY_S = 1.0
DRAIN_TIMEOUT_S = 10.0


class TaskSupervisor:
    """Owns long-lived loops and one-shot jobs; :meth:`aclose` drains them all."""

    def __init__(self, drain_timeout: float = DRAIN_TIMEOUT_S) -> None:
        self._loops: set[asyncio.Task[None]] = set()
        self._jobs: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._drain_timeout = drain_timeout

    def start(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        """Run ``loop()`` until the supervisor closes; a crash is logged and the loop restarted."""
        self._refuse_when_closing()
        task = asyncio.create_task(self._guarded(name, loop), name=name)
        self._loops.add(task)
        task.add_done_callback(self._loops.discard)

    def spawn(self, name: str, job: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run ``job`` as an owned task; its failure is logged (and seen by whoever awaits it).

        A :class:`~kindbot.core.errors.KindbotError` with a 4xx status is a refused
        input, logged as one line without a traceback; anything else is an error.
        """
        self._refuse_when_closing()
        task = asyncio.create_task(job, name=name)
        self._jobs.add(task)
        task.add_done_callback(self._job_done)
        return task

    def _refuse_when_closing(self) -> None:
        if self._closing:
            raise RuntimeError("supervisor is closing")

    def _job_done(self, task: asyncio.Task[Any]) -> None:
        self._jobs.discard(task)
        if task.cancelled() or (error := task.exception()) is None:
            return
        if isinstance(error, StorageBusyError):
            # Overload, not a bug: one line, no traceback (a message stored but not
            # processed is taken up again by the recovery loop).
            log.warning("job %s: %s (%s)", task.get_name(), error.code, error)
            return
        if isinstance(error, KindbotError) and error.http_status < 500:
            # The input was refused (a replayed nonce …): one line, no traceback — a
            # stranger's bad request must not flood the log.
            log.info("job %s refused its input: %s (%s)", task.get_name(), error.code, error)
            return
        log.error("job %s failed", task.get_name(), exc_info=error)

    async def _guarded(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        while not self._closing:
            try:
                await loop()
                return
            except asyncio.CancelledError:
                raise
            except StorageBusyError as error:  # overload, not a bug: one line
                log.warning("background task %s: %s (%s); restarting", name, error.code, error)
                await asyncio.sleep(RESTART_DELAY_S)
            except Exception:
                log.exception("background task %s crashed; restarting", name)
                await asyncio.sleep(RESTART_DELAY_S)

    @property
    def closing(self) -> bool:
        """Whether :meth:`aclose` began (nothing new may start)."""
        return self._closing

    @property
    def running(self) -> int:
        """How many loops and jobs are alive."""
        return len(self._loops) + len(self._jobs)

    async def aclose(self) -> None:
        """Cancel loops, give jobs ``drain_timeout`` seconds, then cancel what is left."""
        self._closing = True
        loops = list(self._loops)
        for task in loops:
            task.cancel()
        jobs = list(self._jobs)
        if jobs:
            _done, pending = await asyncio.wait(jobs, timeout=self._drain_timeout)
            for task in pending:
                task.cancel()
        await asyncio.gather(*loops, *jobs, return_exceptions=True)
