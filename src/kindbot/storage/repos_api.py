"""SQL repository for tenants' API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from kindbot.core.records.operations import ApiKeyRecord
from kindbot.storage.executor import Executor
from kindbot.storage.schema import api_keys
from kindbot.storage.sqlutil import new_id


def _key(row: Any) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        prefix=row.prefix,
        key_hash=row.key_hash,
        label=row.label,
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
    )


class SqlApiKeys:
    """:class:`kindbot.core.ports.operations.ApiKeyRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def create(
        self,
        *,
        tenant_id: str,
        prefix: str,
        key_hash: str,
        label: str,
        created_by: str,
        now: datetime,
    ) -> ApiKeyRecord:
        values = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "prefix": prefix,
            "key_hash": key_hash,
            "label": label,
            "created_at": now,
            "created_by": created_by,
            "revoked_at": None,
        }
        await self._conn.execute(api_keys.insert().values(**values))
        found = await self.by_prefix(prefix)
        assert found is not None
        return found

    async def by_prefix(self, prefix: str) -> ApiKeyRecord | None:
        row = (
            await self._conn.execute(select(api_keys).where(api_keys.c.prefix == prefix))
        ).first()
        return _key(row) if row is not None else None

    async def list_for_tenant(self, tenant_id: str) -> list[ApiKeyRecord]:
        query = (
            select(api_keys)
            .where(api_keys.c.tenant_id == tenant_id)
            .order_by(api_keys.c.created_at, api_keys.c.prefix)
        )
        return [_key(r) for r in await self._conn.execute(query)]

    async def revoke(self, tenant_id: str, key_id: str, now: datetime) -> bool:
        result = await self._conn.execute(
            update(api_keys)
            .where(
                api_keys.c.tenant_id == tenant_id,
                api_keys.c.id == key_id,
                api_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        return bool(result.rowcount)
