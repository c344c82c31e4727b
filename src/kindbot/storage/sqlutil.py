"""Small helpers shared by the SQL repositories."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def new_id() -> str:
    """A fresh random identifier (32 hex characters)."""
    return uuid.uuid4().hex


async def insert_ignoring_conflict(
    conn: AsyncConnection,
    table: Table,
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
) -> bool:
    """Insert a row unless one with the same ``conflict_columns`` exists.

    Returns True when the row was inserted. Uses the backend's native
    ``ON CONFLICT DO NOTHING`` so that concurrent inserts never raise.
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(table).values(**values)
        result = await conn.execute(
            pg.on_conflict_do_nothing(index_elements=list(conflict_columns))
        )
    elif dialect == "sqlite":
        lite = sqlite.insert(table).values(**values)
        result = await conn.execute(
            lite.on_conflict_do_nothing(index_elements=list(conflict_columns))
        )
    else:  # pragma: no cover - only the two backends above are supported
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    return bool(result.rowcount)


async def insert_returning_unless_conflict(
    conn: AsyncConnection,
    table: Table,
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
) -> Row[Any] | None:
    """Insert a row unless one with the same ``conflict_columns`` exists; the new row or None.

    One round trip (``ON CONFLICT DO NOTHING RETURNING``) for the common case.
    """
    index = list(conflict_columns)
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=index)
        return (await conn.execute(pg.returning(*table.c))).first()
    lite = sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=index)
    return (await conn.execute(lite.returning(*table.c))).first()


def supports_row_locks(conn: AsyncConnection) -> bool:
    """SQLite serialises writers with BEGIN IMMEDIATE; others need FOR UPDATE."""
    return conn.dialect.name != "sqlite"
