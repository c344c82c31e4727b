"""Editing the moderation lexicon: the operator's platform terms and a tenant's own.

Shared by ``kindbot moderation terms`` and ``/api/v1/…/moderation/terms``.
Edits are validated by :func:`kindbot.moderation.edits.check_edit` (a tenant
tightens, never allows away a platform block term) and take effect within a
second in every process (the screener source watches the edit generation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kindbot.core.errors import BadRequestError, NotFoundError
from kindbot.core.ports.seams import Store
from kindbot.core.records.moderation import ModerationTerm, TermAction
from kindbot.core.records.tenancy import TenantRecord
from kindbot.moderation.edits import check_edit
from kindbot.moderation.screener import compile_terms


@dataclass(frozen=True, slots=True)
class TermAdded:
    """The stored term, and whether it was new (False: the scope already had it)."""

    term: ModerationTerm | None
    created: bool


async def list_terms(store: Store, tenant: TenantRecord | None) -> list[ModerationTerm]:
    """The stored terms of the platform (``tenant`` None) or of one tenant, oldest first."""
    async with store.transaction(readonly=True) as tx:
        return await tx.moderation_terms.in_scope(tenant.id if tenant else None)


async def add_term(
    store: Store,
    tenant: TenantRecord | None,
    *,
    term: str,
    category: str | None,
    action: TermAction,
    created_by: str,
    now: datetime,
) -> TermAdded:
    """Add ``term`` to the platform's or ``tenant``'s lexicon.

    Raises :class:`BadRequestError` (``invalid_term``) naming every problem;
    nothing is stored then.
    """
    term = term.strip()
    category = category.strip().lower() if category else None
    async with store.transaction() as tx:
        platform = await tx.moderation_terms.in_scope(None)
        problems = check_edit(
            term, category, action, tenant=tenant is not None, overlay=compile_terms(platform)
        )
        if problems:
            raise BadRequestError("; ".join(problems), code="invalid_term")
        added = await tx.moderation_terms.add(
            tenant_id=tenant.id if tenant else None,
            term=term,
            category=category if action is not TermAction.ALLOW else None,
            action=action,
            created_by=created_by,
            now=now,
        )
    return TermAdded(added, added is not None)


async def remove_term(store: Store, tenant: TenantRecord | None, term: str) -> int:
    """Remove ``term`` from the scope; :class:`NotFoundError` when it has no such term."""
    async with store.transaction() as tx:
        removed = await tx.moderation_terms.remove(tenant.id if tenant else None, term.strip())
    if not removed:
        where = tenant.slug if tenant else "platform"
        raise NotFoundError(f"{where} has no stored term {term.strip()!r}", code="unknown_term")
    return removed
