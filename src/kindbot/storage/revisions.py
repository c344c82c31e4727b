"""The tenant's revision (``tenants.revision``): what tells a process its cache is stale.

Every process keeps a tenant's row, its channels (opened configurations), its
flow definitions and its knowledge-base version in memory
(:mod:`kindbot.pipeline.tenant_cache`). Every storage write that changes any
of them bumps the tenant's revision in the same transaction — folded into
the write's own ``UPDATE tenants`` where there is one (:data:`BUMPED`), else
one more statement (:func:`bump_revision`) — and a message's store
transaction reads the revision in a statement it runs anyway
(:data:`CURRENT_REVISION`). A write method of the repositories of tenants,
channels, flow definitions or the knowledge base that forgets to bump fails
``tests/contracts/test_tenant_revision.py``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ScalarSelect, bindparam, select, update

from kindbot.storage.executor import Executor
from kindbot.storage.schema import tenants

BUMPED: dict[str, Any] = {"revision": tenants.c.revision + 1}
"""Values to add to an ``UPDATE tenants``: the revision moves with the change."""

KB_CHANGED: dict[str, Any] = {"kb_version": tenants.c.kb_version + 1, **BUMPED}
"""Values of the ``UPDATE tenants`` that records a knowledge-base change."""

_BUMP = update(tenants).where(tenants.c.id == bindparam("revised_tenant_id")).values(**BUMPED)

CURRENT_REVISION: ScalarSelect[int] = (
    select(tenants.c.revision)
    .where(tenants.c.id == bindparam("revision_tenant_id"))
    .scalar_subquery()
)
"""The tenant's revision as a column of another statement (bind ``revision_tenant_id``)."""


async def bump_revision(conn: Executor, tenant_id: str) -> None:
    """Move the tenant's revision on (inside the caller's writing transaction)."""
    await conn.execute(_BUMP, {"revised_tenant_id": tenant_id})
