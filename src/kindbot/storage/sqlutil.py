"""Small helpers shared by the SQL repositories."""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable, Row, Table
from sqlalchemy.dialects import postgresql, sqlite

from kindbot.storage.executor import Executor


def key_digest(key: str) -> str:
    """The fixed-length form (64 lowercase hex characters, SHA-256) a key is stored as.

    Keys built from outside identifiers (idempotency keys, callback nonces,
    their fingerprints) are stored and compared only as digests, so a column
    never has to cut one: equal keys always give equal digests, different
    keys different ones. ``surrogatepass`` keeps the digest total even for
    text that could not be stored itself.
    """
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_id() -> str:
    """A fresh random identifier (32 hex characters)."""
    return uuid.uuid4().hex


async def insert_ignoring_conflict(
    conn: Executor,
    table: Table,
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
) -> bool:
    """Insert a row unless one with the same ``conflict_columns`` exists.

    Returns True when the row was inserted. Uses the backend's native
    ``ON CONFLICT DO NOTHING`` so that concurrent inserts never raise.
    """
    statement = _insert_on_conflict(table, conn.dialect_name, tuple(conflict_columns), False)
    result = await conn.execute(statement, values)
    return bool(result.rowcount)


async def insert_ignoring_conflict_many(
    conn: Executor,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict_columns: Sequence[str],
) -> None:
    """Insert each of ``rows`` unless one with the same ``conflict_columns`` exists
    (one ``executemany``; concurrent inserts of the same row never raise)."""
    if rows:
        statement = _insert_on_conflict(table, conn.dialect_name, tuple(conflict_columns), False)
        await conn.execute(statement, rows)


async def insert_returning_unless_conflict(
    conn: Executor,
    table: Table,
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
) -> Row[Any] | None:
    """Insert a row unless one with the same ``conflict_columns`` exists; the new row or None.

    One round trip (``ON CONFLICT DO NOTHING RETURNING``) for the common case.
    """
    statement = _insert_on_conflict(table, conn.dialect_name, tuple(conflict_columns), True)
    return (await conn.execute(statement, values)).first()


@functools.cache
def _insert_on_conflict(
    table: Table, dialect: str, conflict_columns: tuple[str, ...], returning: bool
) -> Executable:
    """The ``INSERT … ON CONFLICT DO NOTHING`` statement, built once per shape.

    Values are passed at execution, so SQLAlchemy's compiled cache serves
    every call (building a statement per call costs more than running it).
    """
    index = list(conflict_columns)
    statement: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=index)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=index)
    else:  # pragma: no cover - only the two backends above are supported
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    return statement.returning(*table.c) if returning else statement


def supports_row_locks(conn: Executor) -> bool:
    """SQLite serialises writers with BEGIN IMMEDIATE; others need FOR UPDATE."""
    return conn.dialect_name != "sqlite"
