"""Tenant onboarding and the platform admin's decisions (DESIGN.md §1 principle 6).

A new tenant starts ``pending``: the guard lets it message only its test
contacts. A platform admin approves it (``pending → active``), suspends it
(``pending|active → suspended``; it then sends nothing) and reinstates it
(``suspended → active``). Every change needs a reason and writes an audit
entry to the tenant's chain in the same transaction as the status change.
A refused signup (a prohibited industry) is recorded in the platform's own
chain (tenant id :data:`PLATFORM_CHAIN`), since there is no tenant to hold it.

The CLI (``kindbot tenant …``), ``kindbot demo`` and the tests all go through
these functions.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kindbot.core.errors import BadRequestError, KindbotError, NotFoundError
from kindbot.core.events import Verdict
from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.audit import AuditEntry
from kindbot.core.records.tenancy import TenantRecord, TenantStatus
from kindbot.guard.audit import AuditDraft

PLATFORM_CHAIN = "platform"
"""The audit chain of platform-level decisions (no tenant owns them)."""

RULE = "tenant_status"
MAX_REASON = 1000


class TenantAction(StrEnum):
    """What a platform admin can do to a tenant; also the audit entry's ``decision``."""

    APPROVE = "approve"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


@dataclass(frozen=True, slots=True)
class _Transition:
    allowed_from: frozenset[TenantStatus]
    to: TenantStatus


TRANSITIONS: dict[TenantAction, _Transition] = {
    TenantAction.APPROVE: _Transition(frozenset({TenantStatus.PENDING}), TenantStatus.ACTIVE),
    TenantAction.SUSPEND: _Transition(
        frozenset({TenantStatus.PENDING, TenantStatus.ACTIVE}), TenantStatus.SUSPENDED
    ),
    TenantAction.REINSTATE: _Transition(frozenset({TenantStatus.SUSPENDED}), TenantStatus.ACTIVE),
}


class TenantStatusError(KindbotError):
    """The tenant's current status does not allow the requested change."""

    code = "invalid_transition"
    http_status = 409


def default_actor() -> str:
    """Who is running this process (recorded as the actor of admin decisions)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "unknown"


@dataclass(frozen=True, slots=True)
class StatusChange:
    """The outcome of an admin decision: the tenant after it and the audit entry."""

    tenant: TenantRecord
    previous: TenantStatus
    entry: AuditEntry


async def append_audit(tx: Transaction, draft: AuditDraft) -> AuditEntry:
    """Write ``draft`` pending and seal the chain's pending entries inside ``tx``; the
    entry as chained.

    For decisions that report their entry (its ``seq``) to whoever made them — an
    admin's status change, an erasure, a consent or key change, a refused signup
    — all off the message path: the sequencer's sealing, run in the deciding
    transaction, so the head stays locked until it commits.
    """
    pending_id = await tx.audit.add_pending_entry(draft)
    while True:
        sealed = await tx.audit.seal_pending(draft.tenant_id)
        if not sealed:  # pragma: no cover - our own pending row is always there to seal
            raise RuntimeError(f"pending audit entry {pending_id} was not sealed")
        for item in sealed:
            if item.pending_id == pending_id:
                return item.entry


def _why_not(tenant: TenantRecord, action: TenantAction) -> str:
    slug, status = tenant.slug, tenant.status.value
    if action is TenantAction.APPROVE:
        if tenant.status is TenantStatus.SUSPENDED:
            return f"tenant {slug!r} is suspended: reinstate it instead of approving it"
        return f"tenant {slug!r} is already {status}: there is nothing to approve"
    if action is TenantAction.SUSPEND:
        return f"tenant {slug!r} is already suspended"
    if tenant.status is TenantStatus.PENDING:
        return f"tenant {slug!r} is pending, not suspended: approve it instead of reinstating it"
    return f"tenant {slug!r} is {status}, not suspended: there is nothing to reinstate"


async def change_status(
    store: Store, slug: str, action: TenantAction, *, reason: str, actor: str, now: datetime
) -> StatusChange:
    """Apply ``action`` to the tenant ``slug`` and audit it, in one transaction.

    Raises :class:`NotFoundError` (no such tenant), :class:`BadRequestError`
    (no reason) or :class:`TenantStatusError` (the status does not allow it;
    nothing is changed).
    """
    reason = " ".join(reason.split())
    if not reason:
        raise BadRequestError(f"a reason is required to {action.value} a tenant")
    if len(reason) > MAX_REASON:
        raise BadRequestError(f"the reason is longer than {MAX_REASON} characters")
    transition = TRANSITIONS[action]
    async with store.transaction() as tx:
        found = await tx.tenants.get_by_slug(slug)
        if found is None:
            raise NotFoundError(f"no tenant {slug!r}")
        # Holding the chain's head (sealing what is pending) serialises decisions about
        # this tenant until the transaction ends.
        await tx.audit.seal_pending(found.id)
        tenant = await tx.tenants.get(found.id)
        assert tenant is not None
        if tenant.status not in transition.allowed_from:
            raise TenantStatusError(_why_not(tenant, action))
        await tx.tenants.set_status(tenant.id, transition.to)
        if action is TenantAction.REINSTATE:  # a reviewed tenant starts with a clean score
            await tx.violations.forgive(tenant.id)
            await tx.tenants.set_standing(tenant.id, "ok")
        detail = {
            "reason": reason,
            "actor": actor,
            "from": tenant.status.value,
            "to": transition.to.value,
        }
        draft = AuditDraft(
            tenant_id=tenant.id,
            at=now,
            kind=RULE,
            subject=f"tenant:{tenant.slug}",
            rule=RULE,
            decision=action.value,
            detail=json.dumps(detail, ensure_ascii=False),
        )
        entry = await append_audit(tx, draft)
        changed = await tx.tenants.get(tenant.id)
    assert changed is not None
    return StatusChange(changed, tenant.status, entry)


async def approve_tenant(
    store: Store, slug: str, *, reason: str, actor: str, now: datetime
) -> StatusChange:
    """``pending → active``: the tenant may message everyone the guard allows."""
    return await change_status(
        store, slug, TenantAction.APPROVE, reason=reason, actor=actor, now=now
    )


async def suspend_tenant(
    store: Store, slug: str, *, reason: str, actor: str, now: datetime
) -> StatusChange:
    """``pending|active → suspended``: the tenant sends nothing; inbound is still recorded."""
    return await change_status(
        store, slug, TenantAction.SUSPEND, reason=reason, actor=actor, now=now
    )


async def reinstate_tenant(
    store: Store, slug: str, *, reason: str, actor: str, now: datetime
) -> StatusChange:
    """``suspended → active`` (also for a tenant suspended while pending: reinstating approves)."""
    return await change_status(
        store, slug, TenantAction.REINSTATE, reason=reason, actor=actor, now=now
    )


async def record_refusal(
    store: Store,
    *,
    slug: str,
    name: str,
    industry: str,
    verdict: Verdict,
    source: str,
    now: datetime,
    actor: str | None = None,
) -> AuditEntry:
    """Write a refused signup (or industry change) to the platform chain, in its own transaction."""
    detail = {
        "slug": slug,
        "name": name,
        "industry": industry,
        "reason_zh": verdict.reason_zh,
        "reason_en": verdict.reason_en,
        "bundle": source,
        "actor": actor or default_actor(),
    }
    draft = AuditDraft(
        tenant_id=PLATFORM_CHAIN,
        at=now,
        kind="onboarding",
        subject=f"tenant:{slug}",
        rule=verdict.rule,
        decision=verdict.decision.value,
        detail=json.dumps(detail, ensure_ascii=False),
    )
    async with store.transaction() as tx:
        return await append_audit(tx, draft)
