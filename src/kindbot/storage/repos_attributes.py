"""A tenant's declared attributes and its contacts' typed values over SQL (``tx.attributes``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from kindbot.core.records.directory import (
    AttributeChange,
    AttributeDefinition,
    AttributeType,
    AttributeValue,
    ContactAttribute,
    DefinitionSync,
)
from kindbot.storage.executor import Executor
from kindbot.storage.schema import attribute_definitions, contact_attributes

VALUE_COLUMNS = {
    AttributeType.TEXT: "value_text",
    AttributeType.NUMBER: "value_number",
    AttributeType.DATE: "value_date",
    AttributeType.BOOL: "value_bool",
}
"""The column each type's values are stored in."""


def value_columns(kind: AttributeType, value: AttributeValue | None) -> dict[str, Any]:
    """Every value column: ``value`` in its type's column, NULL in the others."""
    columns: dict[str, Any] = dict.fromkeys(VALUE_COLUMNS.values())
    columns[VALUE_COLUMNS[kind]] = value
    return columns


def _stored_value(row: Any) -> tuple[AttributeType, AttributeValue] | None:
    if row.value_text is not None:
        return AttributeType.TEXT, str(row.value_text)
    if row.value_number is not None:
        return AttributeType.NUMBER, Decimal(row.value_number)
    if row.value_date is not None:
        assert isinstance(row.value_date, date)
        return AttributeType.DATE, row.value_date
    if row.value_bool is not None:
        return AttributeType.BOOL, bool(row.value_bool)
    return None


def _upsert(dialect: str) -> postgresql.Insert | sqlite.Insert:
    """``INSERT … ON CONFLICT (contact_id, name) DO UPDATE`` replacing every value column."""
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = maker(contact_attributes)
    replaced = {c: statement.excluded[c] for c in (*VALUE_COLUMNS.values(), "updated_at")}
    return statement.on_conflict_do_update(index_elements=["contact_id", "name"], set_=replaced)


class SqlAttributes:
    """:class:`kindbot.core.ports.directory.AttributeRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def definitions(self, tenant_id: str) -> list[AttributeDefinition]:
        query = (
            select(attribute_definitions)
            .where(attribute_definitions.c.tenant_id == tenant_id)
            .order_by(attribute_definitions.c.position)
        )
        return [
            AttributeDefinition(row.name, AttributeType(row.type), row.label)
            for row in await self._conn.execute(query)
        ]

    async def replace_definitions(
        self, tenant_id: str, definitions: Sequence[AttributeDefinition]
    ) -> DefinitionSync:
        before = {d.name: d for d in await self.definitions(tenant_id)}
        wanted = {d.name: d for d in definitions}
        removed = [name for name in before if name not in wanted]
        retyped = [n for n, d in wanted.items() if n in before and before[n].type is not d.type]
        added = tuple(name for name in wanted if name not in before)
        changed = tuple(n for n, d in wanted.items() if n in before and before[n] != d)
        values_removed = 0
        if removed or retyped:
            result = await self._conn.execute(
                delete(contact_attributes).where(
                    contact_attributes.c.tenant_id == tenant_id,
                    contact_attributes.c.name.in_(removed + retyped),
                )
            )
            values_removed = int(result.rowcount)
        positions = [d.name for d in definitions]
        if before and [d.name for d in before.values()] == positions and not changed:
            return DefinitionSync((), (), (), values_removed)
        await self._conn.execute(
            delete(attribute_definitions).where(attribute_definitions.c.tenant_id == tenant_id)
        )
        if definitions:
            await self._conn.execute(
                insert(attribute_definitions),
                [
                    {
                        "tenant_id": tenant_id,
                        "name": d.name,
                        "type": d.type.value,
                        "label": d.label,
                        "position": position,
                    }
                    for position, d in enumerate(definitions)
                ],
            )
        return DefinitionSync(added, changed, tuple(removed), values_removed)

    async def of_contact(self, contact_id: str) -> list[ContactAttribute]:
        query = (
            select(contact_attributes)
            .where(contact_attributes.c.contact_id == contact_id)
            .order_by(contact_attributes.c.name)
        )
        found: list[ContactAttribute] = []
        for row in await self._conn.execute(query):
            stored = _stored_value(row)
            if stored is not None:
                found.append(ContactAttribute(row.name, stored[0], stored[1], row.updated_at))
        return found

    async def apply(
        self, tenant_id: str, contact_id: str, changes: Sequence[AttributeChange], now: datetime
    ) -> None:
        cleared = [c.name for c in changes if c.value is None]
        if cleared:
            await self._conn.execute(
                delete(contact_attributes).where(
                    contact_attributes.c.contact_id == contact_id,
                    contact_attributes.c.name.in_(cleared),
                )
            )
        rows = [
            {"tenant_id": tenant_id, "contact_id": contact_id, "name": change.name}
            | value_columns(change.type, change.value)
            | {"updated_at": now}
            for change in changes
            if change.value is not None
        ]
        if rows:
            # One upsert per value: concurrent writers of the same value never collide.
            statement = _upsert(self._conn.dialect_name)
            for row in rows:
                await self._conn.execute(statement, row)

    async def erase_contact(self, contact_id: str) -> int:
        result = await self._conn.execute(
            delete(contact_attributes).where(contact_attributes.c.contact_id == contact_id)
        )
        return int(result.rowcount)
