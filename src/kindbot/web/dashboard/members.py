"""A shop's members: invite by link, change roles, remove, withdraw invitations (shop admins).

Joining by an invitation link (``/invite/{token}``) is here too: a newcomer
chooses a name and password, an existing user signs in first and joins with
one click.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from kindbot.core.errors import KindbotError
from kindbot.core.records.accounts import Role
from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.accounts import Visitor, grant_role, revoke_role
from kindbot.ops.invitations import (
    accept,
    check_role_change,
    invite,
    open_invitation,
    withdraw,
)
from kindbot.web.dashboard.pages import SignedInVisitor, redirect, shop_for, shop_form
from kindbot.web.dashboard.rendering import render
from kindbot.web.dashboard.session import (
    LOGIN_CSRF_COOKIE,
    PageError,
    new_login_csrf,
    optional_visitor,
    same,
    set_cookie,
)
from kindbot.web.deps import container_of

router = APIRouter(include_in_schema=False)
ADMINS = (Role.TENANT_ADMIN,)
JOIN_CSRF_SECONDS = 3600


async def _page(
    request: Request,
    visitor: Visitor,
    tenant: TenantRecord,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    link: str | None = None,
) -> HTMLResponse:
    container = container_of(request)
    async with container.store.transaction(readonly=True) as tx:
        members = await tx.accounts.members(tenant.id)
        pending = await tx.accounts.open_invitations(tenant.id, container.clock.now())
    return render(
        request,
        "members.html",
        visitor,
        status=status,
        tenant=tenant,
        members=members,
        invitations=pending,
        roles=list(Role),
        notice=notice,
        error=error,
        link=link,
    )


@router.get("/dashboard/{slug}/members")
async def members_page(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """The shop's members and open invitations (shop admins only)."""
    tenant, _ = await shop_for(request, visitor, slug, ADMINS)
    return await _page(request, visitor, tenant)


@router.post("/dashboard/{slug}/members/invite")
async def post_invite(
    slug: str,
    request: Request,
    visitor: SignedInVisitor,
    email: Annotated[str, Form(max_length=254)] = "",
    role: Annotated[Role, Form()] = Role.VIEWER,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    """Invite ``email`` as ``role``: the link is shown once, to pass on."""
    tenant, _ = await shop_form(request, visitor, slug, csrf, ADMINS)
    container = container_of(request)
    try:
        issued = await invite(
            container.store,
            tenant=tenant,
            email=email,
            role=role,
            by=visitor.user,
            now=container.clock.now(),
        )
    except KindbotError as refused:
        return await _page(
            request, visitor, tenant, status=refused.http_status, error=refused.message
        )
    link = f"{str(request.base_url).rstrip('/')}/invite/{issued.token}"
    return await _page(request, visitor, tenant, link=link)


async def _admin_count(request: Request, tenant: TenantRecord) -> int:
    async with container_of(request).store.transaction(readonly=True) as tx:
        members = await tx.accounts.members(tenant.id)
    return sum(m.role is Role.TENANT_ADMIN for _, m in members)


async def _member_email(request: Request, tenant: TenantRecord, user_id: str) -> tuple[str, Role]:
    async with container_of(request).store.transaction(readonly=True) as tx:
        user = await tx.accounts.user(user_id)
        membership = await tx.accounts.membership(user_id, tenant.id)
    if user is None or membership is None:
        raise PageError(404, "not_found")
    return user.email, membership.role


@router.post("/dashboard/{slug}/members/{user_id}/role")
async def post_role(
    slug: str,
    user_id: str,
    request: Request,
    visitor: SignedInVisitor,
    role: Annotated[Role, Form()] = Role.VIEWER,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    """Change a member's role (never leaving the shop without an admin)."""
    tenant, _ = await shop_form(request, visitor, slug, csrf, ADMINS)
    email, current = await _member_email(request, tenant, user_id)
    container = container_of(request)
    try:
        check_role_change(await _admin_count(request, tenant), current, role)
        await grant_role(
            container.store,
            email=email,
            tenant=tenant,
            role=role,
            actor=f"user:{visitor.user.email}",
            now=container.clock.now(),
        )
    except KindbotError as refused:
        return await _page(
            request, visitor, tenant, status=refused.http_status, error=refused.message
        )
    return await _page(request, visitor, tenant, notice=f"{email}: {role.value}")


@router.post("/dashboard/{slug}/members/{user_id}/remove")
async def post_remove(
    slug: str,
    user_id: str,
    request: Request,
    visitor: SignedInVisitor,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    """Remove a member from the shop (never the last admin)."""
    tenant, _ = await shop_form(request, visitor, slug, csrf, ADMINS)
    email, current = await _member_email(request, tenant, user_id)
    container = container_of(request)
    try:
        check_role_change(await _admin_count(request, tenant), current, None)
        await revoke_role(
            container.store,
            email=email,
            tenant=tenant,
            actor=f"user:{visitor.user.email}",
            now=container.clock.now(),
        )
    except KindbotError as refused:
        return await _page(
            request, visitor, tenant, status=refused.http_status, error=refused.message
        )
    return await _page(request, visitor, tenant, notice=f"{email} ✕")


@router.post("/dashboard/{slug}/invitations/{invitation}/withdraw")
async def post_withdraw(
    slug: str,
    invitation: str,
    request: Request,
    visitor: SignedInVisitor,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    """Withdraw an open invitation (its link stops working)."""
    tenant, _ = await shop_form(request, visitor, slug, csrf, ADMINS)
    container = container_of(request)
    try:
        await withdraw(
            container.store,
            tenant=tenant,
            token_hash_hex=invitation,
            by=visitor.user,
            now=container.clock.now(),
        )
    except KindbotError as refused:
        return await _page(
            request, visitor, tenant, status=refused.http_status, error=refused.message
        )
    return await _page(request, visitor, tenant)


async def _join_page(
    request: Request, token: str, *, status: int = 200, error: str | None = None
) -> HTMLResponse:
    container = container_of(request)
    visitor = await optional_visitor(request)
    try:
        invitation = await open_invitation(container.store, token, container.clock.now())
    except KindbotError:
        raise PageError(404, "invalid_invitation") from None
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get(invitation.tenant_id)
        has_account = await tx.accounts.user_by_email(invitation.email) is not None
    csrf = visitor.session.csrf if visitor else new_login_csrf()
    response = render(
        request,
        "join.html",
        visitor,
        status=status,
        invitation=invitation,
        tenant=tenant,
        has_account=has_account,
        csrf=csrf,
        token=token,
        error=error,
    )
    if visitor is None:
        set_cookie(request, response, LOGIN_CSRF_COOKIE, csrf, JOIN_CSRF_SECONDS)
    return response


@router.get("/invite/{token}")
async def join_form(token: str, request: Request) -> HTMLResponse:
    """The invitation: join with a new account, or sign in first and join."""
    return await _join_page(request, token)


@router.post("/invite/{token}")
async def join(
    token: str,
    request: Request,
    name: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Use the invitation; on to the shop's page (a newcomer signs in with the new account)."""
    container = container_of(request)
    visitor = await optional_visitor(request)
    expected = visitor.session.csrf if visitor else request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not same(expected, csrf):
        raise PageError(403, "form_expired")
    try:
        await accept(
            container.store,
            token,
            now=container.clock.now(),
            signed_in=visitor.user if visitor else None,
            name=name,
            password=password,
        )
    except KindbotError as refused:
        return await _join_page(request, token, status=refused.http_status, error=refused.message)
    return redirect("/dashboard" if visitor else "/login?next=%2Fdashboard")
