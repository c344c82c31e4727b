"""The audit chain over SQL: pending entries, sealing them into the chain, reading it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from kindbot.core.records.audit import (
    GENESIS_HASH,
    AuditDraft,
    AuditEntry,
    AuditFacets,
    AuditFilter,
    AuditHead,
    PendingAuditEntry,
    SealedPending,
)
from kindbot.guard.audit_sequencer import seal_pending
from kindbot.storage.executor import Executor
from kindbot.storage.schema import audit_entries, audit_heads, audit_pending
from kindbot.storage.sqlutil import insert_ignoring_conflict, supports_row_locks


def _audit(row: Any) -> AuditEntry:
    return AuditEntry(
        tenant_id=row.tenant_id,
        seq=row.seq,
        at=row.at,
        kind=row.kind,
        subject=row.subject,
        rule=row.rule,
        decision=row.decision,
        detail=row.detail,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


SEAL_BATCH = 500
"""Most pending entries one sealing transaction chains (a bounded transaction)."""

_HEAD = select(audit_heads).where(audit_heads.c.tenant_id == bindparam("tenant_id"))
_HEAD_LOCKED = _HEAD.with_for_update()
_HEAD_LOCKED_OR_SKIP = _HEAD.with_for_update(skip_locked=True)
_ADD_PENDING = insert(audit_pending).returning(audit_pending.c.id)
_ADD_SEALED = insert(audit_entries).returning(audit_entries.c.seq)
"""Executed with a list of rows: SQLAlchemy's "insertmanyvalues" sends them as
multi-row ``INSERT … VALUES (…), (…) RETURNING`` statements (one for a message's
few entries; batched within the backend's parameter limits), rendered from one
cached compilation. (``insert(…).values(rows)`` has no cache key: every call
compiled afresh — about one full compilation per message.) The returned ids
are not used; ``RETURNING`` is what makes SQLAlchemy batch the rows into one
statement instead of a driver ``executemany``, one statement per row on SQLite."""
_MOVE_HEAD = (
    update(audit_heads)
    .where(audit_heads.c.tenant_id == bindparam("head_tenant_id"))
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)
_HAS_PENDING = (
    select(audit_pending.c.id).where(audit_pending.c.tenant_id == bindparam("tenant_id")).limit(1)
)
# Claim a bounded batch of the tenant's pending entries, oldest first, and remove them
# in the same statement; only a transaction holding the tenant's head runs it.
_CLAIM_PENDING = (
    delete(audit_pending)
    .where(
        audit_pending.c.id.in_(
            select(audit_pending.c.id)
            .where(audit_pending.c.tenant_id == bindparam("tenant_id"))
            .order_by(audit_pending.c.id)
            .limit(bindparam("batch_limit"))
            .scalar_subquery()
        )
    )
    .returning(*audit_pending.c)
)
_ADD_ONE = insert(audit_pending).returning(audit_pending.c.id)
_PENDING_TENANTS = select(audit_pending.c.tenant_id).distinct().limit(bindparam("tenant_limit"))

SealApart = Callable[[str], Awaitable[None]]
"""Seals a tenant's pending entries in transactions of their own, then lets this
(read-only) transaction see them: how a read-only reader seals before it reads."""


def _pending(row: Any) -> PendingAuditEntry:
    return PendingAuditEntry(
        id=row.id,
        draft=AuditDraft(
            tenant_id=row.tenant_id,
            at=row.at,
            kind=row.kind,
            subject=row.subject,
            rule=row.rule,
            decision=row.decision,
            detail=row.detail,
        ),
    )


def _draft_row(draft: AuditDraft) -> dict[str, object]:
    return {
        "tenant_id": draft.tenant_id,
        "at": draft.at,
        "kind": draft.kind,
        "subject": draft.subject,
        "rule": draft.rule,
        "decision": draft.decision,
        "detail": draft.detail,
    }


def _entry_row(e: AuditEntry) -> dict[str, object]:
    return {
        "tenant_id": e.tenant_id,
        "seq": e.seq,
        "at": e.at,
        "kind": e.kind,
        "subject": e.subject,
        "rule": e.rule,
        "decision": e.decision,
        "detail": e.detail,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


class SqlAudit:
    """:class:`kindbot.core.ports.seams.AuditRepository` over SQL.

    Writers add *pending* entries (``audit_pending``: no head, no lock). Sealing
    reads the tenant's head row locked (``FOR UPDATE``; SQLite serialises
    writers anyway), claims a batch of its pending rows, inserts them chained
    into ``audit_entries`` and moves the head, all in the caller's transaction:
    two sealers can never fork the chain or seal an entry twice (the unique
    (tenant, seq) constraint backs that up).

    ``seal_apart``: set for read-only transactions, which cannot seal in place.
    """

    def __init__(self, conn: Executor, *, seal_apart: SealApart | None = None) -> None:
        self._conn = conn
        self._seal_apart = seal_apart

    async def add_pending(self, drafts: Sequence[AuditDraft]) -> None:
        if drafts:
            await self._conn.execute(_ADD_PENDING, [_draft_row(d) for d in drafts])

    async def add_pending_entry(self, draft: AuditDraft) -> int:
        result = await self._conn.execute(_ADD_ONE, _draft_row(draft))
        return int(result.scalar_one())

    async def pending_tenants(self, limit: int) -> list[str]:
        result = await self._conn.execute(_PENDING_TENANTS, {"tenant_limit": limit})
        return [row.tenant_id for row in result]

    async def seal_pending(
        self, tenant_id: str, *, limit: int = SEAL_BATCH, skip_locked: bool = False
    ) -> list[SealedPending] | None:
        head = await self._lock_head(tenant_id, skip_locked=skip_locked)
        if head is None:
            return None
        params = {"tenant_id": tenant_id, "batch_limit": limit}
        claimed = [_pending(r) for r in await self._conn.execute(_CLAIM_PENDING, params)]
        if not claimed:
            return []
        batch = seal_pending(head, claimed)
        await self._conn.execute(_ADD_SEALED, [_entry_row(s.entry) for s in batch.sealed])
        moved = {
            "head_tenant_id": tenant_id,
            "new_seq": batch.head.seq,
            "new_hash": batch.head.hash,
        }
        await self._conn.execute(_MOVE_HEAD, moved)
        return list(batch.sealed)

    async def seal_now(self, tenant_id: str) -> None:
        if not (await self._conn.execute(_HAS_PENDING, {"tenant_id": tenant_id})).first():
            return
        if self._seal_apart is not None:
            await self._seal_apart(tenant_id)
            return
        while True:
            sealed = await self.seal_pending(tenant_id)
            if sealed is None or len(sealed) < SEAL_BATCH:
                return

    async def _lock_head(self, tenant_id: str, *, skip_locked: bool) -> AuditHead | None:
        """The head locked until the transaction ends; None when ``skip_locked`` and
        another transaction holds it."""
        if not supports_row_locks(self._conn):
            query = _HEAD
        else:
            query = _HEAD_LOCKED_OR_SKIP if skip_locked else _HEAD_LOCKED
        params = {"tenant_id": tenant_id}
        row = (await self._conn.execute(query, params)).first()
        skipped = row is None and query is _HEAD_LOCKED_OR_SKIP
        if skipped and (await self._conn.execute(_HEAD, params)).first() is not None:
            return None  # it exists: another transaction holds it
        if row is None:  # the chain's first entry: make its head (once, whoever races)
            await insert_ignoring_conflict(
                self._conn,
                audit_heads,
                {"tenant_id": tenant_id, "seq": 0, "hash": GENESIS_HASH},
                ["tenant_id"],
            )
            row = (await self._conn.execute(query, params)).first()
            if row is None:
                return None
        return AuditHead(tenant_id=tenant_id, seq=row.seq, hash=row.hash)

    async def head(self, tenant_id: str) -> AuditHead:
        row = (await self._conn.execute(_HEAD, {"tenant_id": tenant_id})).first()
        if row is None:
            return AuditHead(tenant_id=tenant_id, seq=0, hash=GENESIS_HASH)
        return AuditHead(tenant_id=tenant_id, seq=row.seq, hash=row.hash)

    async def entries(self, tenant_id: str, after_seq: int, limit: int) -> list[AuditEntry]:
        await self.seal_now(tenant_id)
        query = (
            select(audit_entries)
            .where(audit_entries.c.tenant_id == tenant_id, audit_entries.c.seq > after_seq)
            .order_by(audit_entries.c.seq)
            .limit(limit)
        )
        return [_audit(r) for r in await self._conn.execute(query)]

    async def newest(
        self, tenant_id: str, where: AuditFilter, *, before_seq: int | None, limit: int
    ) -> list[AuditEntry]:
        await self.seal_now(tenant_id)
        query = select(audit_entries).where(audit_entries.c.tenant_id == tenant_id)
        if before_seq is not None:
            query = query.where(audit_entries.c.seq < before_seq)
        if where.kind:
            query = query.where(audit_entries.c.kind == where.kind)
        if where.decision:
            query = query.where(audit_entries.c.decision == where.decision)
        if where.text:
            query = query.where(audit_entries.c.subject.icontains(where.text, autoescape=True))
        query = query.order_by(audit_entries.c.seq.desc()).limit(limit)
        return [_audit(r) for r in await self._conn.execute(query)]

    async def facets(self, tenant_id: str) -> AuditFacets:
        await self.seal_now(tenant_id)
        mine = audit_entries.c.tenant_id == tenant_id
        kinds = select(audit_entries.c.kind).where(mine).distinct()
        decisions = select(audit_entries.c.decision).where(mine).distinct()
        return AuditFacets(
            kinds=tuple(sorted(r.kind for r in await self._conn.execute(kinds))),
            decisions=tuple(sorted(r.decision for r in await self._conn.execute(decisions))),
        )
