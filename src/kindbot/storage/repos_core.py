"""SQL repositories for tenants, channels, contacts and conversations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from kindbot.core.records.tenancy import ChannelRecord, TenantRecord, TenantStatus
from kindbot.storage.executor import Executor
from kindbot.storage.revisions import BUMPED, bump_revision
from kindbot.storage.schema import channels, tenants
from kindbot.storage.sqlutil import (
    insert_ignoring_conflict,
    new_id,
)

OPEN = "open"

# Statements on the per-message path are built once (values bound at execution).
_TENANT_BY_ID = select(tenants).where(tenants.c.id == bindparam("tenant_id"))
_CHANNEL_BY_ID = select(channels).where(channels.c.id == bindparam("channel_id"))
_CHANNEL_BY_PUBLIC_ID = select(channels).where(channels.c.public_id == bindparam("public_id"))


def _tenant(row: Any) -> TenantRecord:
    return TenantRecord(
        id=row.id,
        slug=row.slug,
        name=row.name,
        industry=row.industry,
        timezone=row.timezone,
        language=row.language,
        status=TenantStatus(row.status),
        kb_threshold=row.kb_threshold,
        created_at=row.created_at,
        kb_version=row.kb_version,
        guard_json=row.guard_json,
        standing=row.standing,
        handlers=tuple(json.loads(row.handlers_json)) if row.handlers_json else (),
        llm_sealed=row.llm_sealed,
        service_hours_json=row.service_hours_json,
        revision=row.revision,
    )


class SqlTenants:
    """:class:`kindbot.core.ports.seams.TenantRepository` over SQL.

    Every write moves the tenant's revision on in the same statement
    (:mod:`kindbot.storage.revisions`)."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def get(self, tenant_id: str) -> TenantRecord | None:
        row = (await self._conn.execute(_TENANT_BY_ID, {"tenant_id": tenant_id})).first()
        return _tenant(row) if row else None

    async def get_by_slug(self, slug: str) -> TenantRecord | None:
        row = (await self._conn.execute(select(tenants).where(tenants.c.slug == slug))).first()
        return _tenant(row) if row else None

    async def list(self) -> list[TenantRecord]:
        rows = await self._conn.execute(select(tenants).order_by(tenants.c.slug))
        return [_tenant(r) for r in rows]

    async def upsert(
        self,
        *,
        slug: str,
        name: str,
        industry: str,
        timezone: str,
        language: str,
        kb_threshold: float | None,
        now: datetime,
    ) -> tuple[TenantRecord, bool]:
        fields = {
            "name": name,
            "industry": industry,
            "timezone": timezone,
            "language": language,
            "kb_threshold": kb_threshold,
        }
        created = await insert_ignoring_conflict(
            self._conn,
            tenants,
            {
                "id": new_id(),
                "slug": slug,
                "status": TenantStatus.PENDING.value,
                "kb_version": 0,
                "created_at": now,
                **fields,
            },
            ["slug"],
        )
        record = await self.get_by_slug(slug)
        assert record is not None
        if created or all(getattr(record, k) == v for k, v in fields.items()):
            return record, created
        # Changed: the revision moves on with it (an unchanged apply leaves both alone).
        await self._conn.execute(
            update(tenants).where(tenants.c.slug == slug).values(**fields, **BUMPED)
        )
        record = await self.get_by_slug(slug)
        assert record is not None
        return record, created

    async def set_status(self, tenant_id: str, status: TenantStatus) -> None:
        await self._conn.execute(
            update(tenants).where(tenants.c.id == tenant_id).values(status=status.value, **BUMPED)
        )

    async def set_guard(self, tenant_id: str, guard_json: str | None) -> None:
        await self._conn.execute(
            update(tenants).where(tenants.c.id == tenant_id).values(guard_json=guard_json, **BUMPED)
        )

    async def set_handlers(self, tenant_id: str, modules: Sequence[str]) -> None:
        value = json.dumps(list(modules)) if modules else None
        await self._conn.execute(
            update(tenants).where(tenants.c.id == tenant_id).values(handlers_json=value, **BUMPED)
        )

    async def set_service_hours(self, tenant_id: str, hours_json: str | None) -> None:
        await self._conn.execute(
            update(tenants)
            .where(tenants.c.id == tenant_id)
            .values(service_hours_json=hours_json, **BUMPED)
        )

    async def set_llm(self, tenant_id: str, llm_sealed: str | None) -> None:
        await self._conn.execute(
            update(tenants).where(tenants.c.id == tenant_id).values(llm_sealed=llm_sealed, **BUMPED)
        )

    async def set_standing(self, tenant_id: str, standing: str) -> None:
        await self._conn.execute(
            update(tenants).where(tenants.c.id == tenant_id).values(standing=standing, **BUMPED)
        )


def _channel(row: Any) -> ChannelRecord:
    return ChannelRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        public_id=row.public_id,
        local_id=row.local_id,
        kind=row.kind,
        config_sealed=row.config_sealed,
        enabled=row.enabled,
    )


class SqlChannels:
    """:class:`kindbot.core.ports.seams.ChannelRepository` over SQL.

    Every write moves the channel's tenant's revision on (:mod:`kindbot.storage.revisions`)."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def get(self, channel_id: str) -> ChannelRecord | None:
        row = (await self._conn.execute(_CHANNEL_BY_ID, {"channel_id": channel_id})).first()
        return _channel(row) if row else None

    async def get_by_public_id(self, public_id: str) -> ChannelRecord | None:
        params = {"public_id": public_id}
        row = (await self._conn.execute(_CHANNEL_BY_PUBLIC_ID, params)).first()
        return _channel(row) if row else None

    async def list_for_tenant(self, tenant_id: str) -> list[ChannelRecord]:
        query = select(channels).where(channels.c.tenant_id == tenant_id)
        return [_channel(r) for r in await self._conn.execute(query.order_by(channels.c.local_id))]

    async def upsert(
        self, *, tenant_id: str, public_id: str, local_id: str, kind: str, config_sealed: str
    ) -> tuple[ChannelRecord, bool]:
        created = await insert_ignoring_conflict(
            self._conn,
            channels,
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "public_id": public_id,
                "local_id": local_id,
                "kind": kind,
                "config_sealed": config_sealed,
                "enabled": True,
            },
            ["public_id"],
        )
        if not created:
            existing = await self.get_by_public_id(public_id)
            if existing is None or existing.tenant_id != tenant_id:
                raise ValueError(f"channel {public_id!r} belongs to another tenant")
            await self._conn.execute(
                update(channels)
                .where(channels.c.id == existing.id)
                .values(kind=kind, config_sealed=config_sealed, enabled=True)
            )
        await bump_revision(self._conn, tenant_id)
        record = await self.get_by_public_id(public_id)
        assert record is not None
        return record, created

    async def set_enabled(self, channel_id: str, enabled: bool) -> bool:
        changed = await self._conn.execute(
            update(channels)
            .where(channels.c.id == channel_id)
            .values(enabled=enabled)
            .returning(channels.c.tenant_id)
        )
        row = changed.first()
        if row is None:
            return False
        await bump_revision(self._conn, row.tenant_id)
        return True
