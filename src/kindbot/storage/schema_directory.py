"""The contact directory's tables (issue 16 §2): each tenant's declared custom
attributes and its contacts' typed values; part of the schema
:mod:`kindbot.storage.schema` assembles.

A value lives in the column of its attribute's type (``value_text``,
``value_number``, ``value_date``, ``value_bool``); the others are NULL.
Segment filters compare these columns directly, so their names are a contract.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from kindbot.storage.schema_base import UTCDateTime, metadata, tenant_column

NUMBER_PLACES = 6
"""Decimal places an attribute number keeps (exactly)."""
NUMBER_DIGITS = 18
"""Significant digits of an attribute number: at most 12 before the point."""
_SCALE = 10**NUMBER_PLACES


class ExactNumber(TypeDecorator[Decimal]):
    """An exact decimal with :data:`NUMBER_PLACES` places, never a float.

    PostgreSQL: ``NUMERIC(18, 6)``. SQLite has no exact decimal type (its
    NUMERIC affinity turns ``0.1`` into a binary float), so there the value is
    an integer count of millionths; comparisons stay exact and ordered as long
    as the other side is bound through this type (SQLAlchemy does that for
    ``column >= value``, so ``contact_attributes.c.value_number >= Decimal("2")``
    works on both backends).
    """

    impl = Numeric(NUMBER_DIGITS, NUMBER_PLACES)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(NUMBER_DIGITS, NUMBER_PLACES))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> object:
        if value is None:
            return None
        if dialect.name == "sqlite":
            scaled = Decimal(value) * _SCALE
            if scaled != scaled.to_integral_value():
                raise ValueError(f"{value} has more than {NUMBER_PLACES} decimal places")
            return int(scaled)
        return Decimal(value)

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            assert isinstance(value, int), "stored as integer millionths"
            return Decimal(value).scaleb(-NUMBER_PLACES)
        assert isinstance(value, Decimal), "NUMERIC reads as Decimal"
        return value


# The bundle's ``tenant.attributes``, in its order (``position``).
attribute_definitions = Table(
    "attribute_definitions",
    metadata,
    Column("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False),
    Column("name", String(64), nullable=False),
    # text | number | date | bool
    Column("type", String(8), nullable=False),
    Column("label", String(100), nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "name"),
)

contact_attributes = Table(
    "contact_attributes",
    metadata,
    tenant_column(),
    Column("contact_id", String(32), ForeignKey("contacts.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("value_text", String(500), nullable=True),
    Column("value_number", ExactNumber, nullable=True),
    Column("value_date", Date, nullable=True),
    Column("value_bool", Boolean, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("contact_id", "name"),
    # Who has a value of one attribute (segments, the list's attribute filters).
    Index("ix_contact_attributes_tenant_name", "tenant_id", "name"),
)
