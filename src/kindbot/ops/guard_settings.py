"""A shop's own guard limits, edited outside its bundle (dashboard and REST API).

A shop may only make the platform's limits stricter: quiet hours that include
the platform's, fewer proactive messages per contact per day or month, a
lower count above which a broadcast needs a second person's approval. The
check is :func:`kindbot.guard.policy.tenant_policy` — the same one a bundle's
``guard:`` passes — so no path can loosen a limit. The operator's trust tier
is kept as it is. Every change is written with an audit entry in one
transaction and takes effect on the shop's next message in every process
(it bumps the tenant's revision). Applying the bundle again replaces these
settings with the bundle's ``guard:``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from kindbot.bundles.tenants import append_audit
from kindbot.core.errors import BadRequestError, NotFoundError
from kindbot.core.ports.seams import Store
from kindbot.core.records.audit import AuditDraft
from kindbot.core.records.tenancy import TenantRecord
from kindbot.guard.policy import (
    PLATFORM_POLICY,
    GuardPolicy,
    TenantGuardSettings,
    settings_from_json,
    settings_to_json,
    tenant_policy,
)

AUDIT_KIND = "guard_settings"
MAX_LIMIT = 1_000_000


@dataclass(frozen=True, slots=True)
class GuardLimits:
    """The limits a shop can set (None: the platform's)."""

    quiet_hours: str | None = None
    per_contact_day: int | None = None
    per_contact_month: int | None = None
    human_confirm_over: int | None = None


@dataclass(frozen=True, slots=True)
class GuardSettingsView:
    """The shop's own limits, the policy in effect, and the platform's (its ceiling)."""

    own: GuardLimits
    effective: GuardPolicy
    platform: GuardPolicy


def limits_of(settings: TenantGuardSettings) -> GuardLimits:
    """The shop-settable part of stored settings."""
    return GuardLimits(
        settings.quiet_hours,
        settings.per_contact_day,
        settings.per_contact_month,
        settings.human_confirm_over,
    )


def guard_settings_view(tenant: TenantRecord) -> GuardSettingsView:
    """What :func:`update_guard_settings` edits, and what is in effect now."""
    settings = settings_from_json(tenant.guard_json)
    return GuardSettingsView(
        own=limits_of(settings),
        effective=tenant_policy(settings, timezone=tenant.timezone),
        platform=replace(PLATFORM_POLICY, timezone=tenant.timezone),
    )


def parse_limit(value: str, field: str) -> int | None:
    """A form's limit: blank is None (the platform's), else a whole number 0 … 1,000,000;
    400 ``invalid_guard`` naming ``field`` otherwise."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_LIMIT:
        raise BadRequestError(
            f"{field}: a whole number from 0 to {MAX_LIMIT}, or empty for the platform's",
            code="invalid_guard",
        )
    return int(value)


def checked_settings(tenant: TenantRecord, limits: GuardLimits) -> TenantGuardSettings:
    """``limits`` with the shop's trust tier, when they only tighten the platform's;
    400 ``invalid_guard`` (saying which limit and why) otherwise."""
    quiet = limits.quiet_hours.strip() if limits.quiet_hours else None
    tier = settings_from_json(tenant.guard_json).trust_tier
    settings = TenantGuardSettings(
        quiet_hours=quiet or None,
        per_contact_day=limits.per_contact_day,
        per_contact_month=limits.per_contact_month,
        human_confirm_over=limits.human_confirm_over,
        trust_tier=tier,
    )
    tenant_policy(settings, timezone=tenant.timezone)
    return settings


async def update_guard_settings(
    store: Store, slug: str, limits: GuardLimits, *, actor: str, now: datetime
) -> GuardSettingsView:
    """Store the shop's new limits and audit the change (before and after), all or nothing.

    Raises :class:`NotFoundError` for an unknown shop and :class:`BadRequestError`
    (``invalid_guard``) for a limit that would loosen the platform's. An
    unchanged setting writes nothing.
    """
    async with store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug(slug)
        if tenant is None:
            raise NotFoundError(f"no tenant {slug!r}")
        settings = checked_settings(tenant, limits)
        stored = settings_to_json(settings)
        before = settings_from_json(tenant.guard_json)
        if stored != settings_to_json(before):
            await tx.tenants.set_guard(tenant.id, stored)
            detail = {
                "actor": actor,
                "before": asdict(limits_of(before)),
                "after": asdict(limits_of(settings)),
            }
            await append_audit(
                tx,
                AuditDraft(
                    tenant_id=tenant.id,
                    at=now,
                    kind=AUDIT_KIND,
                    subject=f"tenant:{tenant.slug}",
                    rule=AUDIT_KIND,
                    decision="changed",
                    detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
                ),
            )
    return guard_settings_view(replace(tenant, guard_json=stored))
