"""A shop's contacts: search and filters, and one contact's timeline, tags, attributes,
consents (with their wording and source), export and erasure.

Every member reads; shop admins and agents edit tags and attributes; only shop
admins export and erase (erasure asks the admin to type the contact's id to
confirm). Each action is the REST API's service (:mod:`kindbot.ops.directory`,
:mod:`kindbot.ops.rights`, :mod:`kindbot.ops.consent`): the same checks, the
same audit entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kindbot.contacts.attributes import InvalidAttributesError, plain_value
from kindbot.contacts.search import InvalidFilterError, ListParameters
from kindbot.core.errors import KindbotError
from kindbot.core.records.accounts import Role
from kindbot.core.records.conversations import ContactRecord
from kindbot.core.records.directory import AttributeDefinition, ContactAttribute, DirectoryRow
from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.consent import Recorder, list_consents
from kindbot.ops.contacts import ContactRef
from kindbot.ops.directory import (
    contact_of,
    contact_timeline,
    item_document,
    list_contacts,
    row_document,
    set_attributes,
)
from kindbot.ops.rights import erase_contact, export_contact
from kindbot.web.dashboard.pages import SignedInVisitor, shop_for, shop_form
from kindbot.web.dashboard.rendering import render
from kindbot.web.dashboard.session import PageError
from kindbot.web.deps import container_of

router = APIRouter(include_in_schema=False)
EDITORS = (Role.TENANT_ADMIN, Role.AGENT)
ADMINS = (Role.TENANT_ADMIN,)
PAGE_SIZE = 50
TIMELINE_SIZE = 30
SORTS = ("last_active", "created", "orders", "revenue", "name")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def list_parameters(params: Any) -> ListParameters:
    """The contact list's form (query string) as the service's parameters."""
    return ListParameters(
        q=params.get("q") or None,
        tags=tuple(t for t in params.getlist("tag") if t.strip()),
        channel=params.get("channel") or None,
        attrs=tuple(a for a in params.getlist("attr") if a.strip()),
        active_within_days=_int(params.get("active_within_days")),
        min_orders=_int(params.get("min_orders")),
        min_revenue=params.get("min_revenue") or None,
        sort=params.get("sort") or None,
        cursor=params.get("cursor") or None,
        limit=PAGE_SIZE,
    )


@router.get("/dashboard/{slug}/contacts")
async def contacts_page(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """The shop's contacts, filtered (``q``, ``tag``, ``channel``, ``attr=name:op:value``,
    ``active_within_days``, ``min_orders``, ``min_revenue``, ``sort``), 50 a page."""
    tenant, role = await shop_for(request, visitor, slug)
    container = container_of(request)
    params = request.query_params
    async with container.store.transaction(readonly=True) as tx:
        channels = [c.local_id for c in await tx.channels.list_for_tenant(tenant.id)]
        declared = await tx.attributes.definitions(tenant.id)
    error = None
    rows: list[tuple[DirectoryRow, dict[str, Any]]] = []
    next_cursor = None
    try:
        page = await list_contacts(
            container.store, tenant, list_parameters(params), container.clock.now()
        )
        rows = [(r, row_document(r, page.currency)) for r in page.rows]
        next_cursor = page.next_cursor
    except InvalidFilterError as refused:
        error = refused.message
    more = [(k, v) for k, v in params.multi_items() if k != "cursor"]
    return render(
        request,
        "contacts.html",
        visitor,
        status=422 if error else 200,
        tenant=tenant,
        role=role,
        rows=rows,
        error=error,
        form=params,
        channels=channels,
        declared=declared,
        sorts=SORTS,
        next_query=_query([*more, ("cursor", next_cursor)]) if next_cursor else None,
    )


def _query(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs)


@dataclass(frozen=True, slots=True)
class AttributeField:
    """One declared attribute on the contact's form, with its current value as text."""

    definition: AttributeDefinition
    value: str


def _fields(
    declared: list[AttributeDefinition], values: list[ContactAttribute], typed: dict[str, str]
) -> list[AttributeField]:
    current = {v.name: plain_value(v.value) for v in values}
    shown = []
    for d in declared:
        value = typed.get(d.name, current.get(d.name, ""))
        text = "true" if value is True else "false" if value is False else str(value)
        shown.append(AttributeField(d, text))
    return shown


async def _contact_page(
    request: Request,
    visitor: SignedInVisitor,
    tenant: TenantRecord,
    role: Role,
    contact_id: str,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    problems: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    container = container_of(request)
    async with container.store.transaction(readonly=True) as tx:
        contact = await contact_of(tx, tenant, contact_id)
        channel = await tx.channels.get(contact.channel_id)
        declared = await tx.attributes.definitions(tenant.id)
        values = await tx.attributes.of_contact(contact.id)
        tags = await tx.tags.of_contact(contact.id)
    channel_id = channel.local_id if channel is not None else ""
    _, consents = await list_consents(
        container.store, tenant, ContactRef(channel_id, contact.external_id)
    )
    timeline = await contact_timeline(
        container.store, tenant, contact.id, request.query_params.get("before"), TIMELINE_SIZE
    )
    return render(
        request,
        "contact.html",
        visitor,
        status=status,
        tenant=tenant,
        role=role,
        contact=contact,
        channel=channel_id,
        tags=tags,
        fields=_fields(declared, values, typed or {}),
        consents=consents,
        items=[(i, item_document(i)) for i in timeline.items],
        older=timeline.next_cursor,
        notice=notice,
        error=error,
        problems=problems or {},
    )


@router.get("/dashboard/{slug}/contacts/{contact_id}")
async def contact_page(
    slug: str, contact_id: str, request: Request, visitor: SignedInVisitor
) -> HTMLResponse:
    """One contact: timeline (``?before=`` for older items), tags, attributes, consents."""
    tenant, role = await shop_for(request, visitor, slug)
    try:
        return await _contact_page(request, visitor, tenant, role, contact_id)
    except KindbotError as refused:
        if refused.http_status == 404:
            raise PageError(404, "not_found") from None
        raise


@router.post("/dashboard/{slug}/contacts/{contact_id}/attributes")
async def post_attributes(
    slug: str, contact_id: str, request: Request, visitor: SignedInVisitor
) -> HTMLResponse:
    """Save the contact's attributes (an empty field clears one); all or nothing."""
    form = await request.form()
    csrf = str(form.get("csrf", ""))
    tenant, role = await shop_form(request, visitor, slug, csrf, EDITORS)
    container = container_of(request)
    typed = {
        str(k).removeprefix("attr."): str(v).strip()
        for k, v in form.multi_items()
        if str(k).startswith("attr.")
    }
    values: dict[str, object] = {k: (v if v else None) for k, v in typed.items()}
    try:
        await set_attributes(
            container.store, tenant, contact_id, values, container.clock.now(), from_text=True
        )
    except InvalidAttributesError as refused:
        problems = {p.field: p.reason for p in refused.problems}
        return await _contact_page(
            request, visitor, tenant, role, contact_id, status=422, problems=problems, typed=typed
        )
    except KindbotError as refused:
        raise PageError(404, "not_found") if refused.http_status == 404 else refused from None
    return await _contact_page(request, visitor, tenant, role, contact_id, notice="saved")


@router.post("/dashboard/{slug}/contacts/{contact_id}/tags")
async def post_tag(
    slug: str,
    contact_id: str,
    request: Request,
    visitor: SignedInVisitor,
    csrf: Annotated[str, Form(max_length=64)] = "",
    tag: Annotated[str, Form(max_length=64)] = "",
    remove: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Add (or with ``remove``, take off) one tag; tags are words of 1–64 characters."""
    tenant, role = await shop_form(request, visitor, slug, csrf, EDITORS)
    tag = tag.strip()
    if not tag or any(c.isspace() for c in tag):
        return await _contact_page(
            request, visitor, tenant, role, contact_id, status=400, error="invalid_tag"
        )
    async with container_of(request).store.transaction() as tx:
        try:
            contact = await contact_of(tx, tenant, contact_id)
        except KindbotError:
            raise PageError(404, "not_found") from None
        if remove:
            await tx.tags.remove(contact.id, tag)
        else:
            await tx.tags.add(tenant.id, contact.id, tag)
    return RedirectResponse(f"/dashboard/{slug}/contacts/{contact_id}", status_code=303)


async def _ref(request: Request, tenant: TenantRecord, contact_id: str) -> ContactRef:
    async with container_of(request).store.transaction(readonly=True) as tx:
        try:
            contact: ContactRecord = await contact_of(tx, tenant, contact_id)
        except KindbotError:
            raise PageError(404, "not_found") from None
        channel = await tx.channels.get(contact.channel_id)
    return ContactRef(channel.local_id if channel is not None else "", contact.external_id)


@router.get("/dashboard/{slug}/contacts/{contact_id}/export.json")
async def export(
    slug: str, contact_id: str, request: Request, visitor: SignedInVisitor
) -> Response:
    """Everything stored about the contact (the API's export), as a download."""
    tenant, _ = await shop_for(request, visitor, slug, ADMINS)
    container = container_of(request)
    ref = await _ref(request, tenant, contact_id)
    document = await export_contact(container.store, tenant, ref, container.clock.now())
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="contact-{contact_id}.json"'},
    )


@router.post("/dashboard/{slug}/contacts/{contact_id}/erase")
async def erase(
    slug: str,
    contact_id: str,
    request: Request,
    visitor: SignedInVisitor,
    csrf: Annotated[str, Form(max_length=64)] = "",
    confirm: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Erase the contact and everything of it (audited) once the admin typed its id."""
    tenant, role = await shop_form(request, visitor, slug, csrf, ADMINS)
    ref = await _ref(request, tenant, contact_id)
    if confirm.strip() != ref.external_id:
        return await _contact_page(
            request, visitor, tenant, role, contact_id, status=400, error="erase_unconfirmed"
        )
    container = container_of(request)
    recorder = Recorder("dashboard", f"user:{visitor.user.email}")
    await erase_contact(container.store, tenant, ref, recorder, container.clock.now())
    return RedirectResponse(f"/dashboard/{slug}/contacts?erased=1", status_code=303)
