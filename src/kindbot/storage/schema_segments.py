"""Saved segments (issue 16 §3); part of the schema :mod:`kindbot.storage.schema`
assembles. Membership is never stored: it is evaluated in SQL when asked
(``storage/repos_segments.py``)."""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text, UniqueConstraint

from kindbot.storage.schema_base import UTCDateTime, id_column, metadata, tenant_column

segments = Table(
    "segments",
    metadata,
    id_column(),
    tenant_column(),
    Column("name", String(64), nullable=False),
    # The canonical JSON of the definition (kindbot.segments.codec.definition_text).
    Column("definition_json", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Who saved it: ``admin``, ``key:<prefix>``, ``cli:<login>``.
    Column("created_by", String(100), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "name"),
)
