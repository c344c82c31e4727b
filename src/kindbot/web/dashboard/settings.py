"""A shop's channels and settings: what to paste into the WeChat / WeCom console, a test
message through the guard, and the shop's own guard limits.

Shop admins act; viewers read (without the channels' tokens); agents are
refused (403). The test message goes to one of the shop's test contacts through
:func:`kindbot.ops.test_messages.send_test_message` — a proactive send the guard
decides like any other, whose verdict the page shows. The limits form is
:func:`kindbot.ops.guard_settings.update_guard_settings`, the service behind
``PUT /api/v1/tenants/{slug}/guard/settings``: a limit that would loosen the
platform's is refused with the reason, and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from kindbot.campaigns.proactive import ProactiveOutcome
from kindbot.core.errors import KindbotError
from kindbot.core.events import Decision
from kindbot.core.records.accounts import Role
from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.contacts import list_test_contacts
from kindbot.ops.guard_settings import (
    GuardLimits,
    guard_settings_view,
    parse_limit,
    update_guard_settings,
)
from kindbot.ops.test_messages import send_test_message
from kindbot.web.dashboard.i18n import Lang, text
from kindbot.web.dashboard.pages import SignedInVisitor, channel_views, shop_for, shop_form
from kindbot.web.dashboard.rendering import render
from kindbot.web.dashboard.session import request_lang
from kindbot.web.deps import container_of

router = APIRouter(include_in_schema=False)
READERS = (Role.TENANT_ADMIN, Role.VIEWER)
EDITORS = (Role.TENANT_ADMIN,)


@dataclass(frozen=True, slots=True)
class TestContactChoice:
    """A test contact the test message can go to."""

    __test__ = False  # not a pytest test class, despite the name

    contact_id: str
    label: str


@dataclass(frozen=True, slots=True)
class Notice:
    """What the last form did: ``ok`` (a success) or not, and the text to show."""

    ok: bool
    message: str


async def _page(
    request: Request,
    visitor: SignedInVisitor,
    tenant: TenantRecord,
    role: Role,
    *,
    status: int = 200,
    **shown: Any,
) -> HTMLResponse:
    container = container_of(request)
    tests = await list_test_contacts(container.store, tenant)
    choices = [
        TestContactChoice(
            t.contact.id, f"{t.channel} · {t.contact.display_name or t.contact.external_id}"
        )
        for t in tests
    ]
    context: dict[str, Any] = {
        "guard_notice": None,
        "test_notice": None,
        "verdict": None,
        "form": None,
        "test_form": None,
    }
    context.update(shown)
    return render(
        request,
        "settings.html",
        visitor,
        status=status,
        tenant=tenant,
        role=role,
        channels=await channel_views(request, tenant, role),
        view=guard_settings_view(tenant),
        test_contacts=choices,
        **context,
    )


@router.get("/dashboard/{slug}/settings")
async def settings_page(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """The shop's channels, the test message form and its guard limits."""
    tenant, role = await shop_for(request, visitor, slug, READERS)
    return await _page(request, visitor, tenant, role)


@router.post("/dashboard/{slug}/settings/guard")
async def post_guard(
    slug: str,
    request: Request,
    visitor: SignedInVisitor,
    csrf: Annotated[str, Form(max_length=64)] = "",
    quiet_hours: Annotated[str, Form(max_length=40)] = "",
    per_contact_day: Annotated[str, Form(max_length=20)] = "",
    per_contact_month: Annotated[str, Form(max_length=20)] = "",
    human_confirm_over: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    """Save the shop's own limits; a refused one is explained and nothing changes."""
    tenant, role = await shop_form(request, visitor, slug, csrf, EDITORS)
    lang = request_lang(request, visitor)
    container = container_of(request)
    form = {
        "quiet_hours": quiet_hours,
        "per_contact_day": per_contact_day,
        "per_contact_month": per_contact_month,
        "human_confirm_over": human_confirm_over,
    }
    try:
        limits = GuardLimits(
            quiet_hours=quiet_hours.strip() or None,
            per_contact_day=parse_limit(per_contact_day, "per_contact_day"),
            per_contact_month=parse_limit(per_contact_month, "per_contact_month"),
            human_confirm_over=parse_limit(human_confirm_over, "human_confirm_over"),
        )
        await update_guard_settings(
            container.store,
            tenant.slug,
            limits,
            actor=f"user:{visitor.user.email}",
            now=container.clock.now(),
        )
    except KindbotError as refused:
        notice = Notice(False, refused.message)
        return await _page(
            request, visitor, tenant, role, status=400, guard_notice=notice, form=form
        )
    async with container.store.transaction(readonly=True) as tx:
        saved = await tx.tenants.get(tenant.id)
    assert saved is not None
    notice = Notice(True, text(lang, "guard_saved"))
    return await _page(request, visitor, saved, role, guard_notice=notice)


@router.post("/dashboard/{slug}/settings/test-message")
async def post_test_message(
    slug: str,
    request: Request,
    visitor: SignedInVisitor,
    csrf: Annotated[str, Form(max_length=64)] = "",
    contact: Annotated[str, Form(max_length=64)] = "",
    topic: Annotated[str, Form(max_length=200)] = "",
    message: Annotated[str, Form(max_length=8000)] = "",
) -> HTMLResponse:
    """Send a test message to a test contact through the guard and show its verdict."""
    tenant, role = await shop_form(request, visitor, slug, csrf, EDITORS)
    container = container_of(request)
    test_form = {"contact": contact, "topic": topic, "message": message}
    try:
        outcome = await send_test_message(
            container.store, container.proactive, tenant, contact, topic=topic, text=message
        )
    except KindbotError as refused:
        notice = Notice(False, refused.message)
        return await _page(
            request,
            visitor,
            tenant,
            role,
            status=refused.http_status,
            test_notice=notice,
            test_form=test_form,
        )
    return await _page(
        request,
        visitor,
        tenant,
        role,
        test_notice=_outcome_notice(request_lang(request, visitor), outcome),
        verdict=None if outcome.decision is Decision.ALLOW else outcome.verdict,
        test_form=test_form,
    )


def _outcome_notice(lang: Lang, outcome: ProactiveOutcome) -> Notice:
    if outcome.decision is Decision.ALLOW:
        return Notice(True, text(lang, "test_sent"))
    if outcome.decision is Decision.DEFER:
        return Notice(False, text(lang, "test_deferred"))
    return Notice(False, text(lang, "test_refused"))
