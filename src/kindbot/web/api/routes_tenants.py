"""``/api/v1/tenants``: the platform admin's onboarding decisions, and test contacts.

Each route calls the same function as the ``kindbot tenant …`` command.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from kindbot.bundles.prohibited import load_prohibited_industries
from kindbot.bundles.schema import TenantSpec
from kindbot.bundles.tenants import TenantAction, change_status
from kindbot.ops.contacts import add_test_contact, check_ref, list_test_contacts
from kindbot.ops.tenants import sign_up_tenant
from kindbot.web.api.auth import AdminAccess, TenantAccess
from kindbot.web.api.models import (
    ERRORS,
    ReasonIn,
    StatusChangeOut,
    TenantOut,
    TestContactIn,
    TestContactOut,
)
from kindbot.web.deps import container_of

router = APIRouter(tags=["tenants"], responses=ERRORS)


@router.get("/tenants")
async def list_tenants(request: Request, principal: AdminAccess) -> list[TenantOut]:
    """Every tenant (admin only)."""
    async with container_of(request).store.transaction(readonly=True) as tx:
        return [TenantOut.from_record(t) for t in await tx.tenants.list()]


@router.post("/tenants", status_code=status.HTTP_201_CREATED)
async def create_tenant(spec: TenantSpec, request: Request, principal: AdminAccess) -> TenantOut:
    """Sign a tenant up as ``pending`` (admin only), as ``kindbot apply`` does.

    409 ``tenant_exists``; 422 ``industry_prohibited`` (the refusal is recorded
    in the platform's audit chain).
    """
    container = container_of(request)
    tenant = await sign_up_tenant(
        container.store,
        container.box,
        spec,
        actor=principal.actor,
        now=container.clock.now(),
        prohibited=load_prohibited_industries(container.settings.prohibited_industries_file),
    )
    return TenantOut.from_record(tenant)


@router.get("/tenants/{slug}")
async def get_tenant(tenant: TenantAccess) -> TenantOut:
    """One tenant (the admin, or a key of this tenant)."""
    return TenantOut.from_record(tenant)


async def _decide(
    request: Request, slug: str, action: TenantAction, body: ReasonIn, actor: str
) -> StatusChangeOut:
    container = container_of(request)
    change = await change_status(
        container.store, slug, action, reason=body.reason, actor=actor, now=container.clock.now()
    )
    return StatusChangeOut(
        tenant=TenantOut.from_record(change.tenant),
        previous=change.previous.value,
        audit_seq=change.entry.seq,
    )


@router.post("/tenants/{slug}/approve")
async def approve(
    slug: str, body: ReasonIn, request: Request, principal: AdminAccess
) -> StatusChangeOut:
    """``pending → active`` (admin only; audited). 409 ``invalid_transition``."""
    return await _decide(request, slug, TenantAction.APPROVE, body, principal.actor)


@router.post("/tenants/{slug}/suspend")
async def suspend(
    slug: str, body: ReasonIn, request: Request, principal: AdminAccess
) -> StatusChangeOut:
    """``pending|active → suspended``: it sends nothing (admin only; audited)."""
    return await _decide(request, slug, TenantAction.SUSPEND, body, principal.actor)


@router.post("/tenants/{slug}/reinstate")
async def reinstate(
    slug: str, body: ReasonIn, request: Request, principal: AdminAccess
) -> StatusChangeOut:
    """``suspended → active`` (admin only; audited)."""
    return await _decide(request, slug, TenantAction.REINSTATE, body, principal.actor)


@router.get("/tenants/{slug}/test-contacts")
async def get_test_contacts(tenant: TenantAccess, request: Request) -> list[TestContactOut]:
    """The tenant's test contacts (whom it may message while pending)."""
    found = await list_test_contacts(container_of(request).store, tenant)
    return [TestContactOut.from_record(c) for c in found]


@router.post("/tenants/{slug}/test-contacts", status_code=status.HTTP_201_CREATED)
async def post_test_contact(
    body: TestContactIn, tenant: TenantAccess, request: Request, principal: AdminAccess
) -> TestContactOut:
    """Mark one contact as a test contact (admin only: a pending tenant could otherwise
    name anyone). 409 ``too_many_test_contacts`` past the cap."""
    container = container_of(request)
    ref = check_ref(body.channel, body.external_id)
    added, _changed = await add_test_contact(container.store, tenant, ref, container.clock.now())
    return TestContactOut.from_record(added)
