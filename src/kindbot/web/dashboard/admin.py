"""The platform admin's page: the vetting queue and every shop's standing, with decisions.

Only users with the platform-admin flag open it (403 otherwise). A decision
(approve, suspend, reinstate) needs a reason and goes through the same
service as ``kindbot tenant …`` and the REST API (``bundles.tenants.change_status``),
so it is audited with the admin's email as the actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from kindbot.bundles.tenants import TenantAction, change_status
from kindbot.core.errors import KindbotError
from kindbot.core.records.tenancy import TenantRecord, TenantStatus
from kindbot.ops.accounts import Visitor
from kindbot.web.dashboard.rendering import render
from kindbot.web.dashboard.session import PageError, csrf_ok, current_visitor
from kindbot.web.deps import container_of

router = APIRouter(include_in_schema=False)

SAMPLE_ENTRIES = 3
"""Knowledge entries shown per shop as a sample of its content."""


async def platform_admin(visitor: Annotated[Visitor, Depends(current_visitor)]) -> Visitor:
    """The visitor when they are a platform admin; 403 otherwise."""
    if not visitor.user.platform_admin:
        raise PageError(403, "forbidden")
    return visitor


PlatformAdmin = Annotated[Visitor, Depends(platform_admin)]


@dataclass(frozen=True, slots=True)
class ShopReview:
    """What the admin weighs about one shop."""

    tenant: TenantRecord
    channels: int
    test_contacts: int
    sample: tuple[str, ...]
    actions: tuple[TenantAction, ...]


ACTIONS_FROM: dict[TenantStatus, tuple[TenantAction, ...]] = {
    TenantStatus.PENDING: (TenantAction.APPROVE, TenantAction.SUSPEND),
    TenantStatus.ACTIVE: (TenantAction.SUSPEND,),
    TenantStatus.SUSPENDED: (TenantAction.REINSTATE,),
}
STATUS_ORDER = {TenantStatus.PENDING: 0, TenantStatus.SUSPENDED: 1, TenantStatus.ACTIVE: 2}


async def _reviews(request: Request) -> list[ShopReview]:
    reviews = []
    async with container_of(request).store.transaction(readonly=True) as tx:
        for tenant in await tx.tenants.list():
            entries = await tx.knowledge.list(tenant.id)
            reviews.append(
                ShopReview(
                    tenant=tenant,
                    channels=len(await tx.channels.list_for_tenant(tenant.id)),
                    test_contacts=len(await tx.contacts.list_test(tenant.id)),
                    sample=tuple(e.question for e in entries[:SAMPLE_ENTRIES]),
                    actions=ACTIONS_FROM.get(tenant.status, ()),
                )
            )
    return sorted(reviews, key=lambda r: (STATUS_ORDER.get(r.tenant.status, 3), r.tenant.slug))


async def _page(
    request: Request,
    visitor: Visitor,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    reviews = await _reviews(request)
    counts = {s.value: sum(r.tenant.status is s for r in reviews) for s in TenantStatus}
    return render(
        request,
        "admin.html",
        visitor,
        status=status,
        reviews=reviews,
        counts=counts,
        notice=notice,
        error=error,
    )


@router.get("/admin")
async def admin_home(request: Request, visitor: PlatformAdmin) -> HTMLResponse:
    """Every shop, the vetting queue (pending) first, with the decisions each allows."""
    return await _page(request, visitor)


@router.post("/admin/tenants/{slug}/{action}")
async def decide(
    slug: str,
    action: TenantAction,
    request: Request,
    visitor: PlatformAdmin,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Approve, suspend or reinstate ``slug`` with a reason (audited; nothing changes on error)."""
    if not csrf_ok(visitor, csrf):
        raise PageError(403, "form_expired")
    container = container_of(request)
    try:
        change = await change_status(
            container.store,
            slug,
            action,
            reason=reason,
            actor=f"user:{visitor.user.email}",
            now=container.clock.now(),
        )
    except KindbotError as refused:
        return await _page(request, visitor, status=refused.http_status, error=refused.message)
    notice = f"{change.tenant.slug}: {change.previous.value} → {change.tenant.status.value}"
    return await _page(request, visitor, notice=notice)
