"""Fault injection for retry and backoff tests.

``FaultPlan`` holds rules ``(path_prefix, fault, times)`` in the order they were
injected. Each API request (never a ``/sim/...`` control request) takes the
first rule whose prefix its path starts with, using up one of its ``times``;
a used-up rule is dropped, so faults are consumed in order.

What each fault does to the request that takes it:

- ``TIMEOUT``: the request stalls (``Stalls``) until ``release()``, until
  ``timeout_seconds`` pass, or until the client gives up (its task is
  cancelled). After a release or the timeout it is then processed normally —
  as a slow server would, so a client that gave up may still have caused a
  delivery. When the simulator closes, stalled requests are woken at once and
  answered HTTP 503 without being processed.
- ``HTTP_500``: HTTP 500 with a plain-text body; not processed.
- ``ERRCODE_45009``: ``{"errcode": 45009}`` (API quota); not processed.
- ``ERRCODE_40001``: ``{"errcode": 40001}`` as if the token were stale; not
  processed and the token is not revoked, so a refresh-and-retry succeeds.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass


class Fault(enum.Enum):
    """A fault ``WeChatSimulator.inject`` can schedule."""

    TIMEOUT = "timeout"
    HTTP_500 = "http_500"
    ERRCODE_45009 = "errcode_45009"
    ERRCODE_40001 = "errcode_40001"


@dataclass(slots=True)
class _Rule:
    prefix: str
    fault: Fault
    remaining: int


class FaultPlan:
    """Injected faults waiting to be taken, in injection order."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []

    def inject(self, path_prefix: str, fault: Fault, times: int = 1) -> None:
        """Schedule ``fault`` for the next ``times`` requests under ``path_prefix``."""
        if not path_prefix.startswith("/"):
            raise ValueError("path_prefix must start with '/'")
        if times < 1:
            raise ValueError("times must be at least 1")
        self._rules.append(_Rule(path_prefix, Fault(fault), times))

    def take(self, path: str) -> Fault | None:
        """The fault for a request to ``path``, consuming it; ``None`` if none applies."""
        for rule in self._rules:
            if path.startswith(rule.prefix):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rules.remove(rule)
                return rule.fault
        return None

    def pending(self) -> int:
        """How many faulty answers are still scheduled."""
        return sum(rule.remaining for rule in self._rules)

    def clear(self) -> None:
        """Drop every scheduled fault."""
        self._rules.clear()


@dataclass(slots=True, eq=False)
class _Waiter:
    event: asyncio.Event
    aborted: bool = False


class Stalls:
    """Requests held by ``Fault.TIMEOUT``; all belong to the caller's event loop."""

    def __init__(self, timeout_seconds: float) -> None:
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        self.timeout_seconds = timeout_seconds
        self._waiters: set[_Waiter] = set()
        self._closed = False

    @property
    def waiting(self) -> int:
        """How many requests are stalled right now."""
        return len(self._waiters)

    async def stall(self) -> bool:
        """Hold the request; ``True`` to go on processing it, ``False`` if closing."""
        if self._closed:
            return False
        waiter = _Waiter(asyncio.Event())
        self._waiters.add(waiter)
        try:
            async with asyncio.timeout(self.timeout_seconds):
                await waiter.event.wait()
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)
        return not waiter.aborted

    def release(self) -> int:
        """Let every stalled request go on; returns how many there were."""
        waiters = list(self._waiters)
        for waiter in waiters:
            waiter.event.set()
        return len(waiters)

    def close(self) -> None:
        """Wake every stalled request to be answered 503; later stalls end at once."""
        self._closed = True
        for waiter in list(self._waiters):
            waiter.aborted = True
            waiter.event.set()

    def reopen(self) -> None:
        """Accept stalls again (the app started serving again)."""
        self._closed = False
