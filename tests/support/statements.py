"""Counting the SQL a piece of work costs, at the driver: every round trip, grouped per transaction.

:func:`traced` records each statement the database driver runs on the
store's connections — including ``BEGIN``, ``COMMIT``, ``ROLLBACK`` and the
pool's own pings and resets, which SQLAlchemy's cursor events never see.
SQLite: ``sqlite3.Connection.set_trace_callback`` sees everything. PostgreSQL:
asyncpg's ``Connection.add_query_logger`` sees what runs on the connection
itself (``BEGIN``, ``COMMIT``, ``ROLLBACK``, the pool's ``;`` ping) but not
the prepared statements SQLAlchemy runs its queries as; those come from
SQLAlchemy's ``after_cursor_execute``. asyncpg calls its loggers *soon*
(``loop.call_soon``) after a query finished, so the cursor's statements are
queued the same way, after they finished: the log keeps the driver's order.
The hooks are installed when a connection is made, so :func:`traced` first
empties the store's pool; the first transaction afterwards opens a fresh
connection (which the pool does not ping): warm the path up once before the
work you count.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from kindbot.storage.sql_store import SqlStore

WRITES = ("INSERT", "UPDATE", "DELETE")
_CONTROL = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "END", ""})


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement as the driver ran it, on which connection."""

    connection: int
    sql: str

    @property
    def verb(self) -> str:
        """The statement's first word, upper-cased (``BEGIN``, ``SELECT``, ``INSERT``…)."""
        words = self.sql.strip().lstrip("(").split(None, 1)
        return words[0].upper().rstrip(";") if words else ""


@dataclass(slots=True)
class StatementLog:
    """Statements recorded while :attr:`active`, in the order the driver ran them."""

    active: bool = False
    statements: list[Statement] = field(default_factory=list)

    def record(self, connection: object, sql: str) -> None:
        """Keep ``sql`` (run on ``connection``) when recording."""
        if self.active:
            self.statements.append(Statement(id(connection), sql))

    def clear(self) -> None:
        """Forget what was recorded so far."""
        self.statements.clear()

    @property
    def count(self) -> int:
        """How many statements were run (transaction control and pings included)."""
        return len(self.statements)

    def transactions(self) -> list[list[Statement]]:
        """The statements grouped per transaction, per connection, in order of their start.

        A transaction runs from ``BEGIN`` to ``COMMIT``/``ROLLBACK``; a
        statement outside one is a group of its own.
        """
        groups: list[list[Statement]] = []
        open_on: dict[int, list[Statement]] = {}
        for statement in self.statements:
            current = open_on.get(statement.connection)
            if current is None:
                current = [statement]
                groups.append(current)
                if statement.verb == "BEGIN":
                    open_on[statement.connection] = current
                continue
            current.append(statement)
            if statement.verb in ("COMMIT", "ROLLBACK", "END"):
                del open_on[statement.connection]
        return groups

    def drop_transactions_on(self, table: str) -> None:
        """Forget the transactions whose every statement besides transaction control
        reads or writes ``table`` (a process's periodic checks, not a message's work)."""
        dropped = {
            id(s)
            for group in self.transactions()
            if all(table in s.sql or s.verb in _CONTROL for s in group)
            and any(s.verb not in _CONTROL for s in group)
            for s in group
        }
        self.statements = [s for s in self.statements if id(s) not in dropped]

    def write_transactions(self) -> list[list[Statement]]:
        """The transactions that wrote (an ``INSERT``, ``UPDATE`` or ``DELETE``)."""
        return [t for t in self.transactions() if any(s.verb in WRITES for s in t)]

    def summary(self) -> str:
        """One line: statements (and without transaction control and pings), transactions."""
        work = sum(1 for s in self.statements if s.verb not in _CONTROL)
        return (
            f"{self.count} statements ({work} without BEGIN/COMMIT/ROLLBACK/pings)"
            f" in {len(self.transactions())} transactions, {len(self.write_transactions())} writing"
        )

    def render(self) -> str:
        """The log as text: one block per transaction."""
        blocks = []
        for number, group in enumerate(self.transactions(), 1):
            lines = [f"-- transaction {number} ({len(group)} statements)"]
            lines += ["   " + " ".join(s.sql.split())[:160] for s in group]
            blocks.append("\n".join(lines))
        return "\n".join(blocks)


@asynccontextmanager
async def traced(store: SqlStore) -> AsyncIterator[StatementLog]:
    """A log of every statement the driver runs for ``store`` inside the block.

    Recording is off at first: set :attr:`StatementLog.active` (and
    :meth:`StatementLog.clear`) around the work to count.
    """
    engine = store.transaction_engine
    log = StatementLog()

    sqlite = store.engine.dialect.name == "sqlite"

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        raw = getattr(dbapi_connection, "driver_connection", dbapi_connection)
        if sqlite:
            raw.set_trace_callback(lambda sql: log.record(raw, sql))
        else:
            raw.add_query_logger(lambda query: _connection_level(log, raw, query.query))

    def after_cursor_execute(conn: Any, *_args: Any) -> None:
        raw = conn.connection.driver_connection
        asyncio.get_running_loop().call_soon(log.record, raw, _args[1])

    hooks: list[tuple[str, Any]] = [("connect", on_connect)]
    if not sqlite:
        hooks.append(("after_cursor_execute", after_cursor_execute))
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        await _empty_pool(store)
        yield log
    finally:
        await _flush_loggers()
        for name, hook in hooks:
            event.remove(engine, name, hook)
        log.active = False


def _connection_level(log: StatementLog, raw: object, sql: str) -> None:
    """Record what asyncpg ran on the connection itself (not a cursor's statement, counted
    by ``after_cursor_execute``): transaction control and pings."""
    if Statement(0, sql).verb not in _CURSOR_VERBS:
        log.record(raw, sql)


_CURSOR_VERBS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"})


async def _empty_pool(store: SqlStore) -> None:
    if store.engine.dialect.name == "sqlite":
        store.transaction_engine.dispose()
    else:
        await store.engine.dispose()


async def _flush_loggers() -> None:
    for _ in range(3):
        await asyncio.sleep(0)
