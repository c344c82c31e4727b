"""A tenant's business events over SQL (``tx.events``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text

from kindbot.core.records.analytics import BusinessEventRecord, NewBusinessEvent
from kindbot.storage.executor import Executor
from kindbot.storage.schema import business_events
from kindbot.storage.sqlutil import insert_ignoring_conflict_many

BULK_CACHE_KIB = 256 * 1024
"""SQLite page cache (KiB) of a connection during a bulk import (measured: 300,000
events import 26 % faster than with the default 2 MB)."""
IDS_PER_QUERY = 500
"""Event ids looked up per ``IN (…)`` (well under every backend's parameter limit)."""


_COLUMNS = (
    "tenant_id",
    "event_id",
    "type",
    "occurred_at",
    "contact_id",
    "channel_id",
    "amount_minor",
    "currency",
    "order_id",
    "properties_json",
    "received_at",
)
_SQLITE_INSERT = text(
    f"INSERT INTO business_events ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)}) "
    "ON CONFLICT (tenant_id, event_id) DO NOTHING"
)


def sqlite_time(at: datetime) -> str:
    """``at`` as SQLAlchemy stores a UTC datetime in SQLite (``UTCDateTime``: naive UTC,
    microseconds always written, so stored times compare correctly as text)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _row(tenant_id: str, e: NewBusinessEvent, occurred: object, received: object) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "event_id": e.event_id,
        "type": e.type,
        "occurred_at": occurred,
        "contact_id": e.contact_id,
        "channel_id": e.channel_id,
        "amount_minor": e.amount_minor,
        "currency": e.currency,
        "order_id": e.order_id,
        "properties_json": e.properties_json,
        "received_at": received,
    }


def _record(row: Any) -> BusinessEventRecord:
    return BusinessEventRecord(
        tenant_id=row.tenant_id,
        event_id=row.event_id,
        type=row.type,
        occurred_at=row.occurred_at,
        contact_id=row.contact_id,
        channel_id=row.channel_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        order_id=row.order_id,
        properties_json=row.properties_json,
        received_at=row.received_at,
    )


class SqlBusinessEvents:
    """:class:`kindbot.core.ports.analytics.BusinessEventRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn
        self._cache_pages: int | None = None  # the connection's own, during a bulk import

    async def existing_ids(self, tenant_id: str, event_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        unique = sorted(set(event_ids))
        for start in range(0, len(unique), IDS_PER_QUERY):
            query = select(business_events.c.event_id).where(
                business_events.c.tenant_id == tenant_id,
                business_events.c.event_id.in_(unique[start : start + IDS_PER_QUERY]),
            )
            found.update(row.event_id for row in await self._conn.execute(query))
        return found

    async def insert_new(
        self, tenant_id: str, events: Sequence[NewBusinessEvent], now: datetime
    ) -> None:
        if not events:
            return
        if self._conn.dialect_name == "sqlite":
            # Bulk imports are the hot path: one plain statement with the times already
            # in the column's stored form skips SQLAlchemy's per-row type processing.
            received = sqlite_time(now)
            rows: list[dict[str, Any]] = [
                _row(tenant_id, e, sqlite_time(e.occurred_at), received) for e in events
            ]
            await self._conn.execute(_SQLITE_INSERT, rows)
            return
        await insert_ignoring_conflict_many(
            self._conn,
            business_events,
            [_row(tenant_id, e, e.occurred_at, now) for e in events],
            ["tenant_id", "event_id"],
        )

    async def begin_bulk(self) -> None:
        if self._conn.dialect_name == "sqlite" and self._cache_pages is None:
            # Four B-trees grow with random insertion points; with SQLite's default 2 MB
            # page cache one transaction's dirty pages spill to disk over and over.
            found = (await self._conn.execute(text("PRAGMA cache_size"))).scalar()
            self._cache_pages = int(found) if found is not None else -2000
            await self._conn.execute(text(f"PRAGMA cache_size=-{BULK_CACHE_KIB}"))

    async def end_bulk(self) -> None:
        if self._cache_pages is not None:
            await self._conn.execute(text(f"PRAGMA cache_size={self._cache_pages}"))
            self._cache_pages = None

    async def list_for_contact(self, contact_id: str) -> list[BusinessEventRecord]:
        query = (
            select(business_events)
            .where(business_events.c.contact_id == contact_id)
            .order_by(business_events.c.occurred_at, business_events.c.seq)
        )
        return [_record(row) for row in await self._conn.execute(query)]

    async def count(self, tenant_id: str) -> int:
        query = select(func.count()).where(business_events.c.tenant_id == tenant_id)
        return int((await self._conn.execute(query)).scalar_one())
