"""The dashboard's account pages and shop home: sign in and out, account, shops, one shop.

Every page authorises by role **and** tenant: a shop page answers 404 to a
user who is not its member (they learn nothing about other shops) and 403 to a
member whose role may not open it. State-changing forms are POSTs that carry
the CSRF token; a form without it is refused with 403 and changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kindbot.channels.registry import open_config
from kindbot.core.errors import BadRequestError
from kindbot.core.records.accounts import Role
from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.accounts import (
    Refused,
    SignInFailure,
    Visitor,
    change_password,
    sign_in,
    sign_out,
    sign_out_everywhere,
)
from kindbot.pipeline.receive.rate_limits import RateLimitedError
from kindbot.web.dashboard.i18n import Lang, text
from kindbot.web.dashboard.rendering import render
from kindbot.web.dashboard.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    PageError,
    csrf_ok,
    current_visitor,
    new_login_csrf,
    optional_visitor,
    request_lang,
    same,
    set_cookie,
    start_session_cookie,
)
from kindbot.web.deps import container_of
from kindbot.web.ratelimit import source_address

router = APIRouter(include_in_schema=False)

SignedInVisitor = Annotated[Visitor, Depends(current_visitor)]
EVERY_ROLE: frozenset[Role] = frozenset(Role)
LOGIN_CSRF_SECONDS = 3600


def safe_next(target: str | None) -> str:
    """A same-site path to go to after signing in (anything else: the shop list)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/dashboard"


def redirect(to: str) -> RedirectResponse:
    """A 303 (see other) to ``to``: after a POST the browser GETs it."""
    return RedirectResponse(to, status_code=303)


@router.get("/")
async def root() -> RedirectResponse:
    """The console lives under ``/dashboard``."""
    return redirect("/dashboard")


def _login_page(
    request: Request, *, error: str | None = None, status: int = 200, email: str = ""
) -> HTMLResponse:
    token = new_login_csrf()
    response = render(
        request,
        "login.html",
        None,
        status=status,
        csrf=token,
        error=error,
        email=email,
        next=safe_next(request.query_params.get("next")),
    )
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, LOGIN_CSRF_SECONDS)
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    """The sign-in form (a signed-in visitor goes on to the shops)."""
    if await optional_visitor(request) is not None:
        return redirect(safe_next(request.query_params.get("next")))
    return _login_page(request)


@router.post("/login")
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=500)] = "/dashboard",
) -> Response:
    """Check the credentials; set the session cookie and go on, or show the form with why not.

    Failures count per source address (the API's ``auth_failure`` limit) and per
    account (lockout after five in a row).
    """
    lang = request_lang(request, None)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not same(cookie, csrf):
        return _login_page(request, error=text(lang, "form_expired"), status=403, email=email)
    container = container_of(request)
    address = source_address(request)
    try:
        await container.rate_limiter.check("auth_failure", address)
    except RateLimitedError:
        return _login_page(request, error=text(lang, "throttled"), status=429, email=email)
    now = container.clock.now()
    outcome = await sign_in(
        container.store, email=email, password=password, now=now, source=address
    )
    if isinstance(outcome, Refused):
        await _count_failure(request, address)
        return _login_page(request, error=_refusal_text(lang, outcome), status=401, email=email)
    response = redirect(safe_next(next))
    start_session_cookie(request, response, outcome.token)
    return response


async def _count_failure(request: Request, address: str) -> None:
    # A refusal here means this failure used the address's last try: the next is refused.
    with suppress(RateLimitedError):
        await container_of(request).rate_limiter.hit("auth_failure", address)


def _refusal_text(lang: Lang, refused: Refused) -> str:
    if refused.reason is SignInFailure.LOCKED and refused.locked_until is not None:
        until = refused.locked_until.astimezone(ZoneInfo("UTC")).strftime("%H:%M UTC")
        return text(lang, "locked", until=until)
    return text(lang, "wrong_credentials")


@router.post("/logout")
async def logout(
    request: Request, visitor: SignedInVisitor, csrf: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    """End this browser's session."""
    if not csrf_ok(visitor, csrf):
        raise PageError(403, "form_expired")
    token = request.cookies.get(SESSION_COOKIE, "")
    await sign_out(container_of(request).store, token)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account")
async def account(request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """The visitor's account: change the password, sign out everywhere."""
    return render(request, "account.html", visitor, notice=None, error=None)


@router.post("/account/password")
async def post_password(
    request: Request,
    visitor: SignedInVisitor,
    current: Annotated[str, Form(max_length=256)] = "",
    new: Annotated[str, Form(max_length=256)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    """Change the password (the other sessions end)."""
    if not csrf_ok(visitor, csrf):
        raise PageError(403, "form_expired")
    lang = request_lang(request, visitor)
    try:
        await change_password(container_of(request).store, visitor, current=current, new=new)
    except BadRequestError as refused:
        return render(
            request,
            "account.html",
            visitor,
            status=400,
            notice=None,
            error=text(lang, refused.code),
        )
    return render(
        request, "account.html", visitor, notice=text(lang, "password_changed"), error=None
    )


@router.post("/account/sessions/end")
async def end_sessions(
    request: Request, visitor: SignedInVisitor, csrf: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    """Sign out on every device, this one included."""
    if not csrf_ok(visitor, csrf):
        raise PageError(403, "form_expired")
    await sign_out_everywhere(container_of(request).store, visitor.user.id)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@dataclass(frozen=True, slots=True)
class ShopLink:
    """A shop on the visitor's list, with their role there."""

    tenant: TenantRecord
    role: Role


@router.get("/dashboard")
async def shops(request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """The shops the visitor works for (a platform admin sees every shop)."""
    async with container_of(request).store.transaction(readonly=True) as tx:
        every = await tx.tenants.list()
    links = [
        ShopLink(tenant, role)
        for tenant in every
        if (role := visitor.role_in(tenant.id)) is not None
    ]
    return render(request, "shops.html", visitor, shops=links)


async def shop_for(
    request: Request, visitor: Visitor, slug: str, roles: Collection[Role] = EVERY_ROLE
) -> tuple[TenantRecord, Role]:
    """The shop ``slug`` and the visitor's role there.

    404 when the shop does not exist or the visitor is not its member (the same
    answer, so nothing is learnt about other shops); 403 when their role is not
    one of ``roles``.
    """
    async with container_of(request).store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug(slug)
    role = visitor.role_in(tenant.id) if tenant is not None else None
    if tenant is None or role is None:
        raise PageError(404, "not_found")
    if role not in roles:
        raise PageError(403, "forbidden")
    return tenant, role


async def shop_form(
    request: Request,
    visitor: Visitor,
    slug: str,
    csrf: str,
    roles: Collection[Role] = EVERY_ROLE,
) -> tuple[TenantRecord, Role]:
    """:func:`shop_for` for a posted form, which must echo the session's CSRF token
    (403 ``form_expired`` otherwise, after the shop and role checks)."""
    found = await shop_for(request, visitor, slug, roles)
    if not csrf_ok(visitor, csrf):
        raise PageError(403, "form_expired")
    return found


@dataclass(frozen=True, slots=True)
class ConsoleField:
    """A value a shop admin pastes into the platform's console (or the sending system)."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class ChannelView:
    """A channel as its shop's pages show it; ``fields`` (its token, AES key or webhook
    secret) only for shop admins."""

    local_id: str
    kind: str
    enabled: bool
    callback_url: str | None
    chat_url: str | None
    fields: tuple[ConsoleField, ...]


CALLBACK_KINDS = frozenset({"wechat_oa", "wecom", "webhook"})
CONSOLE_FIELDS = (
    ("token", "Token"),
    ("encoding_aes_key", "EncodingAESKey"),
    ("mode", "mode"),
    ("secret", "secret"),
)
"""Config attributes to paste elsewhere, as the WeChat / WeCom consoles name them. A
WeCom app's ``secret`` comes *from* its console and is never shown."""


def console_fields(kind: str, config: object) -> tuple[ConsoleField, ...]:
    """What a shop admin needs to paste for a channel of ``kind`` (none for web chat)."""
    if kind not in CALLBACK_KINDS:
        return ()
    found = []
    for name, label in CONSOLE_FIELDS:
        value = getattr(config, name, None)
        if isinstance(value, str) and value and not (kind == "wecom" and name == "secret"):
            found.append(ConsoleField(label, value))
    return tuple(found)


async def channel_views(request: Request, tenant: TenantRecord, role: Role) -> list[ChannelView]:
    """The shop's channels with their callback or chat URLs (and, for shop admins, what
    to paste into the platform's console)."""
    container = container_of(request)
    async with container.store.transaction(readonly=True) as tx:
        found = await tx.channels.list_for_tenant(tenant.id)
    base = str(request.base_url).rstrip("/")
    views = []
    for channel in found:
        fields: tuple[ConsoleField, ...] = ()
        if role is Role.TENANT_ADMIN and channel.kind in CALLBACK_KINDS and channel.enabled:
            resolved = await container.directory.by_id(channel.id)
            if resolved is not None:
                fields = console_fields(channel.kind, open_config(channel.kind, resolved.config))
        views.append(
            ChannelView(
                local_id=channel.local_id,
                kind=channel.kind,
                enabled=channel.enabled,
                callback_url=(
                    f"{base}/channels/{channel.public_id}/callback"
                    if channel.kind in CALLBACK_KINDS
                    else None
                ),
                chat_url=f"{base}/chat/{channel.public_id}" if channel.kind == "webchat" else None,
                fields=fields,
            )
        )
    return views


@router.get("/dashboard/{slug}")
async def shop_home(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """One shop: its status and standing, its channels (callback URLs), its members."""
    tenant, role = await shop_for(request, visitor, slug)
    channels = await channel_views(request, tenant, role)
    members = []
    if role is Role.TENANT_ADMIN:
        async with container_of(request).store.transaction(readonly=True) as tx:
            members = await tx.accounts.members(tenant.id)
    return render(
        request,
        "shop.html",
        visitor,
        tenant=tenant,
        role=role,
        channels=channels,
        members=members,
        created=_local(tenant.created_at, tenant.timezone),
    )


def _local(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
