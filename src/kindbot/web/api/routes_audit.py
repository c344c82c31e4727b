"""``/api/v1/tenants/{slug}/audit``: verify the tenant's hash chain, export it as JSON lines."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from kindbot.ops.audit_log import export_lines, verify_tenant_chain
from kindbot.web.api.auth import TenantAccess
from kindbot.web.api.models import ERRORS, VerifyOut
from kindbot.web.deps import container_of

router = APIRouter(tags=["audit"], responses=ERRORS)

NDJSON = "application/x-ndjson"


@router.get("/tenants/{slug}/audit/verify")
async def verify(tenant: TenantAccess, request: Request) -> VerifyOut:
    """Recompute the tenant's chain; ``ok`` false names the first bad entry."""
    report = await verify_tenant_chain(container_of(request).store, tenant.id, tenant.slug)
    return VerifyOut.from_report(report)


@router.get(
    "/tenants/{slug}/audit/export",
    response_class=StreamingResponse,
    responses={200: {"content": {NDJSON: {}}, "description": "One JSON object per entry"}},
)
async def export(tenant: TenantAccess, request: Request) -> StreamingResponse:
    """The tenant's audit entries as JSON lines, streamed page by page.

    Each line: tenant, tenant_id, seq, at, kind, subject, rule, decision,
    detail, prev_hash, hash — the same as ``kindbot audit export``, enough to
    verify the chain without the database.
    """
    lines = export_lines(container_of(request).store, tenant.id, tenant.slug)
    return StreamingResponse(lines, media_type=NDJSON)
