"""SQL repositories for the guard's ledgers: counters, tags and bulk planning reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, select, text

from kindbot.core.records.campaigns import PlanContact
from kindbot.core.records.counters import CounterLimit
from kindbot.storage.executor import Executor
from kindbot.storage.schema import (
    UTCDateTime,
    channels,
    contact_tags,
    contacts,
    conversations,
    guard_counters,
)
from kindbot.storage.sqlutil import insert_ignoring_conflict

CHUNK = 500
"""Keys or ids per ``IN (…)`` query (SQLite allows 32,766 parameters; small keeps plans cheap)."""

BULK_THRESHOLD = 2_000
"""Above this many ids, planning reads the tenant's whole contact list once instead."""

_PEEK = select(guard_counters.c.key, guard_counters.c.count).where(
    guard_counters.c.key.in_(bindparam("keys", expanding=True))
)
MIN_SCAN_PREFIX = 8
"""Shortest common key prefix worth a range scan (``pc:`` + a tenant id is 36)."""
_RESERVE = text(
    "INSERT INTO guard_counters (key, count, expires_at) VALUES (:key, 1, :expires_at) "
    "ON CONFLICT (key) DO UPDATE SET count = guard_counters.count + 1 "
    "WHERE guard_counters.count < :limit"
).bindparams(bindparam("expires_at", type_=UTCDateTime))
_RELEASE = text("UPDATE guard_counters SET count = count - 1 WHERE key = :key AND count > 0")


class SqlCounters:
    """:class:`kindbot.core.ports.guard.CounterRepository` over SQL, in the caller's tx."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def peek(self, keys: Sequence[str]) -> list[int]:
        found: dict[str, int] = {}
        prefix = _shared_prefix(keys) if len(keys) > BULK_THRESHOLD else ""
        if len(prefix) >= MIN_SCAN_PREFIX:  # many keys of one family: one range scan
            rows = await self._conn.execute(self._scan(prefix))
            found = {key: int(count) for key, count in rows}
            return [found.get(key, 0) for key in keys]
        for start in range(0, len(keys), CHUNK):
            chunk = list(keys[start : start + CHUNK])
            for key, count in await self._conn.execute(_PEEK, {"keys": chunk}):
                found[key] = int(count)
        return [found.get(key, 0) for key in keys]

    def _scan(self, prefix: str) -> Select[tuple[str, int]]:
        """Every counter whose key starts with ``prefix``.

        SQLite compares keys bytewise (an index range); elsewhere the
        collation may not, so the match is a LIKE prefix, which never depends
        on it.
        """
        query = select(guard_counters.c.key, guard_counters.c.count)
        if self._conn.dialect_name == "sqlite":
            high = prefix + "\uffff"
            return query.where(guard_counters.c.key >= prefix, guard_counters.c.key < high)
        return query.where(guard_counters.c.key.startswith(prefix, autoescape=True))

    async def reserve(self, limits: Sequence[CounterLimit]) -> str | None:
        done: list[str] = []
        for limit in limits:
            granted = (
                limit.limit > 0
                and (
                    await self._conn.execute(
                        _RESERVE,
                        {"key": limit.key, "expires_at": limit.expires_at, "limit": limit.limit},
                    )
                ).rowcount
            )
            if not granted:
                await self.release(done)
                return limit.key
            done.append(limit.key)
        return None

    async def release(self, keys: Sequence[str]) -> None:
        for key in keys:
            await self._conn.execute(_RELEASE, {"key": key})

    async def forget_expired(self, now: datetime) -> int:
        """Delete counters whose period is over; returns how many."""
        result = await self._conn.execute(
            delete(guard_counters).where(guard_counters.c.expires_at < now)
        )
        return int(result.rowcount)


class SqlTags:
    """:class:`kindbot.core.ports.guard.TagRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, tenant_id: str, contact_id: str, tag: str) -> bool:
        return await insert_ignoring_conflict(
            self._conn,
            contact_tags,
            {"tenant_id": tenant_id, "contact_id": contact_id, "tag": tag},
            ["contact_id", "tag"],
        )

    async def remove(self, contact_id: str, tag: str) -> bool:
        result = await self._conn.execute(
            delete(contact_tags).where(
                contact_tags.c.contact_id == contact_id, contact_tags.c.tag == tag
            )
        )
        return bool(result.rowcount)

    async def contacts_with(self, tenant_id: str, tag: str) -> list[str]:
        query = select(contact_tags.c.contact_id).where(
            contact_tags.c.tenant_id == tenant_id, contact_tags.c.tag == tag
        )
        return [row.contact_id for row in await self._conn.execute(query)]

    async def of_contact(self, contact_id: str) -> list[str]:
        query = select(contact_tags.c.tag).where(contact_tags.c.contact_id == contact_id)
        return sorted(row.tag for row in await self._conn.execute(query))


_LAST_INBOUND = (
    select(conversations.c.contact_id, func.max(conversations.c.last_inbound_at).label("last"))
    .group_by(conversations.c.contact_id)
    .subquery()
)
_PLAN_COLUMNS = (
    contacts.c.id,
    contacts.c.channel_id,
    channels.c.kind,
    contacts.c.external_id,
    contacts.c.is_test,
    contacts.c.followed,
    _LAST_INBOUND.c.last,
)
_PLAN_FROM = contacts.join(channels, channels.c.id == contacts.c.channel_id).outerjoin(
    _LAST_INBOUND, _LAST_INBOUND.c.contact_id == contacts.c.id
)


class SqlPlanning:
    """:class:`kindbot.core.ports.guard.PlanningRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def plan_contacts(self, tenant_id: str, contact_ids: Sequence[str]) -> list[PlanContact]:
        query = select(*_PLAN_COLUMNS).select_from(_PLAN_FROM)
        if len(contact_ids) > BULK_THRESHOLD:
            wanted = set(contact_ids)
            rows = await self._conn.execute(query.where(contacts.c.tenant_id == tenant_id))
            return [_plan_contact(row) for row in rows.tuples() if row[0] in wanted]
        found: list[PlanContact] = []
        for start in range(0, len(contact_ids), CHUNK):
            chunk = list(contact_ids[start : start + CHUNK])
            rows = await self._conn.execute(
                query.where(contacts.c.tenant_id == tenant_id, contacts.c.id.in_(chunk))
            )
            found.extend(_plan_contact(row) for row in rows)
        return found


def _shared_prefix(keys: Sequence[str]) -> str:
    """The longest prefix every key shares (that of the smallest and the largest key)."""
    low, high = min(keys), max(keys)
    size = 0
    while size < len(low) and low[size] == high[size]:
        size += 1
    return low[:size]


def _plan_contact(row: Any) -> PlanContact:
    contact_id, channel_id, kind, external_id, is_test, followed, last = row
    return PlanContact(
        contact_id=contact_id,
        channel_id=channel_id,
        channel_kind=kind,
        external_id=external_id,
        is_test=bool(is_test),
        followed=bool(followed),
        last_inbound_at=last,
    )
