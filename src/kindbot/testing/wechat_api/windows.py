"""Per-recipient send allowances ("customer-service windows").

An interaction of the recipient opens a *grant*: ``count`` messages within
``seconds``. Grants are keyed by trigger kind (a user message, a menu
click/follow/scan); a new trigger of the same kind replaces the old grant, so a
new user message restores a fresh 5-message window. Grants of different kinds
coexist; a send uses the one that closes first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Consumed(enum.Enum):
    """The outcome of trying to use one message of an allowance."""

    OK = "ok"
    CLOSED = "closed"  # no grant open: outside every window (or the user left)
    EXHAUSTED = "exhausted"  # a window is open but its messages are used up


@dataclass(slots=True)
class _Grant:
    until: float
    remaining: int


class Allowance:
    """The grants currently held for one recipient."""

    def __init__(self) -> None:
        self._grants: dict[str, _Grant] = {}

    def open(self, kind: str, now: float, count: int, seconds: float) -> None:
        """Replace the ``kind`` grant: ``count`` messages until ``now + seconds``."""
        self._grants[kind] = _Grant(until=now + seconds, remaining=count)

    def clear(self) -> None:
        """Drop every grant (the user unfollowed)."""
        self._grants.clear()

    def consume(self, now: float) -> Consumed:
        """Use one message of the open grant that closes first, if any."""
        live = [g for g in self._grants.values() if now < g.until]
        if not live:
            return Consumed.CLOSED
        usable = [g for g in live if g.remaining > 0]
        if not usable:
            return Consumed.EXHAUSTED
        min(usable, key=lambda g: g.until).remaining -= 1
        return Consumed.OK
