"""Alembic environment: runs on the connection handed in by kindbot.storage.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from kindbot.storage.schema import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through `kindbot migrate`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
