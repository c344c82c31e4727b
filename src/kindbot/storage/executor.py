"""What the SQL repositories run their statements on: one open transaction.

Two implementations behind one small interface:

* :class:`AsyncExecutor` — an ``AsyncConnection`` (PostgreSQL through asyncpg):
  every statement is a network round trip, awaited.
* :class:`InlineExecutor` — a synchronous SQLAlchemy ``Connection`` to a local
  SQLite file, called right on the event loop's thread. A statement on a
  local SQLite file takes microseconds; handing it to a worker thread (what
  aiosqlite does) costs more than the statement, and — worse — every
  hand-over is a suspension point while the transaction holds SQLite's single
  write lock, so under load each statement of a writing transaction waits
  for whatever else the loop is doing. Measured with 32 concurrent WeChat
  pushes, that stretched writing transactions tenfold (``bench/README.md``).
  Inline, a transaction that only touches the database never suspends.

Statements are SQLAlchemy Core constructs either way, so the repositories
are written once for both backends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, CursorResult, Executable
from sqlalchemy.ext.asyncio import AsyncConnection

Parameters = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
Result = CursorResult[*tuple[Any, ...]]


class Executor(Protocol):
    """Runs Core statements inside one open transaction."""

    dialect_name: str
    """``sqlite`` or ``postgresql``: for the few statements that differ."""

    async def execute(self, statement: Executable, parameters: Parameters = None) -> Result:
        """Execute ``statement`` and return its (fully buffered) result."""


class AsyncExecutor:
    """Statements awaited on an async connection (PostgreSQL, or aiosqlite in tools)."""

    __slots__ = ("_conn", "dialect_name")

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self.dialect_name = conn.dialect.name

    async def execute(self, statement: Executable, parameters: Parameters = None) -> Result:
        return await self._conn.execute(statement, parameters)


class InlineExecutor:
    """Statements run synchronously on a local SQLite connection (see the module doc)."""

    __slots__ = ("_conn", "dialect_name")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect_name = conn.dialect.name

    async def execute(self, statement: Executable, parameters: Parameters = None) -> Result:
        return self._conn.execute(statement, parameters)
