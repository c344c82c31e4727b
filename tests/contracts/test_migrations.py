"""Migrations create exactly the schema the code declares, on every SQL backend.

Unlike the rest of ``tests/contracts`` this file is specific to the SQL
backends: it reaches the engine behind :class:`SqlStore` and compares the
migrated database with :data:`kindbot.storage.schema.metadata` using Alembic's
autogenerate comparison.

``compare_type`` is on (types must match, not only names) and so is
``compare_server_default``. No special handling of :class:`UTCDateTime` is
needed: Alembic compares a ``TypeDecorator`` through its ``impl``
(``DateTime(timezone=True)``), which matches the reflected ``DATETIME`` on
SQLite and ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, Integer, MetaData, String
from sqlalchemy.ext.asyncio import AsyncEngine

from kindbot.storage import migrate
from kindbot.storage.engine import create_engine
from kindbot.storage.schema import metadata
from kindbot.storage.sql_store import SqlStore
from tests.contracts.builders import make_tenant


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SqlStore]:
    """Here the store's database is migrated from empty (elsewhere it is a migrated copy)."""
    sql_store = SqlStore.for_url(db_url)
    await migrate.upgrade(sql_store.engine)
    yield sql_store
    await sql_store.close()


async def schema_diff(engine: AsyncEngine, target: MetaData = metadata) -> list[Any]:
    """Alembic's differences between the live database and ``target`` (empty: equal)."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, target))

    async with engine.connect() as connection:
        return await connection.run_sync(compare)


async def test_migrated_schema_matches_the_metadata(store: SqlStore) -> None:
    assert await schema_diff(store.engine) == []


async def test_the_comparison_does_notice_a_difference(store: SqlStore) -> None:
    """Guards the test above against passing vacuously."""
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["tenants"].append_column(Column("extra", String(10), nullable=True))
    changed.tables["audit_entries"].c.seq.type = Integer()
    diff = await schema_diff(store.engine, changed)
    kinds = sorted(d[0] if isinstance(d, tuple) else d[0][0] for d in diff)
    assert kinds == ["add_column", "modify_type"], diff


async def test_current_revision_is_head(store: SqlStore) -> None:
    assert await migrate.current_revision(store.engine) == migrate.head_revision()


async def test_upgrading_twice_is_a_no_op(store: SqlStore) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)

    await migrate.upgrade(store.engine)

    assert await migrate.current_revision(store.engine) == migrate.head_revision()
    assert await schema_diff(store.engine) == []
    async with store.transaction() as tx:
        assert await tx.tenants.get(tenant.id) == tenant, "data survives a repeated upgrade"


async def test_an_empty_database_has_no_revision_until_upgraded(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        assert await migrate.current_revision(engine) is None
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
        assert await schema_diff(engine) == []
    finally:
        await engine.dispose()
