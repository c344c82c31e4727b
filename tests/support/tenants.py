"""Applying a test bundle the way an operator onboards a tenant: apply, then approve."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from kindbot.bootstrap import Container
from kindbot.bundles.apply import ApplyReport, apply_bundle
from kindbot.bundles.tenants import approve_tenant
from kindbot.core.egress import AddressPolicy
from kindbot.core.records.tenancy import TenantStatus


async def apply_approved(container: Container, path: Path, now: datetime) -> ApplyReport:
    """Apply the bundle at ``path``; approve its tenant when it is still pending."""
    addresses = AddressPolicy(container.settings.allow_private_endpoints)
    report = await apply_bundle(container.store, container.box, path, now, addresses=addresses)
    if report.tenant_status is TenantStatus.PENDING:
        await approve_tenant(
            container.store, report.tenant_slug, reason="test setup", actor="tests", now=now
        )
    return report
