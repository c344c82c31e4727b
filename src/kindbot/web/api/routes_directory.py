"""``/api/v1/tenants/{slug}/contacts``: the contact list, a contact's custom attributes
and its timeline (issue 16 §2).

Contacts are named by their kindbot ``id`` (as the list shows it); a contact
of another tenant is 404 ``unknown_contact``, exactly like one that does not
exist. The routes call :mod:`kindbot.ops.directory`, as ``kindbot contact list``,
``attr`` and ``timeline`` do.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from kindbot.contacts.search import ListParameters
from kindbot.core.errors import BadRequestError
from kindbot.ops.directory import (
    attributes_document,
    contact_timeline,
    get_attributes,
    item_document,
    list_contacts,
    row_document,
    set_attributes,
)
from kindbot.web.api.auth import TenantAccess
from kindbot.web.api.models import ERRORS, ErrorBody
from kindbot.web.body import read_limited_body
from kindbot.web.deps import container_of

router = APIRouter(tags=["contacts"], responses=ERRORS)

CONTACTS = "/tenants/{slug}/contacts"
ONE = CONTACTS + "/{contact_id}"
MAX_ATTRIBUTES_BODY = 64 * 1024

INVALID_FILTER: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorBody,
        "description": "A filter, sort, limit or cursor is not understood (`invalid_filter`; "
        "the message names the parameter)",
    }
}


class ContactRowOut(BaseModel):
    """One contact of the list."""

    id: str
    channel: str
    external_id: str
    display_name: str | None
    tags: list[str]
    last_active: str | None
    orders: int
    revenue: str
    currency: str
    created_at: str
    source: str


class ContactListOut(BaseModel):
    """One page of contacts; pass ``next_cursor`` as ``cursor`` for the next (None: last page)."""

    contacts: list[ContactRowOut]
    next_cursor: str | None


class AttributesOut(BaseModel):
    """The contact's attribute values: name → value (numbers as exact decimal strings,
    dates ``YYYY-MM-DD``, booleans, text)."""

    contact_id: str
    attributes: dict[str, str | bool]


class TimelineOut(BaseModel):
    """One page of the contact's timeline, newest first. Every item has ``at``, ``kind``
    and ``id``; the other fields depend on ``kind`` (``message_in``, ``message_out``,
    ``consent_granted``, ``consent_withdrawn``, ``opt_out``, ``handoff_requested``,
    ``handoff_claimed``, ``handoff_resolved``, ``event``, ``proactive_send``, ``note``)."""

    contact_id: str
    items: list[dict[str, Any]]
    next_cursor: str | None


@router.get(CONTACTS, responses=INVALID_FILTER)
async def contacts_list(
    tenant: TenantAccess,
    request: Request,
    q: Annotated[str | None, Query(description="Part of the display name or external id.")] = None,
    tag: Annotated[list[str] | None, Query(description="Carries this tag (repeatable).")] = None,
    channel: Annotated[str | None, Query(description="The channel's id in the tenant.")] = None,
    attr: Annotated[
        list[str] | None,
        Query(
            description="name:op:value (op: eq ne gt gte lt lte contains; or name:set / "
            "name:unset); repeatable, all must hold."
        ),
    ] = None,
    active_within_days: Annotated[
        int | None, Query(description="Last inbound message or event within N days.")
    ] = None,
    min_orders: Annotated[int | None, Query(description="At least N orders.")] = None,
    min_revenue: Annotated[
        str | None, Query(description="Orders minus refunds at least this amount.")
    ] = None,
    sort: Annotated[
        str | None, Query(description="last_active (default), created, orders, revenue, name.")
    ] = None,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(description="Rows per page (1–200, default 50).")] = None,
) -> ContactListOut:
    """The tenant's contacts matching every filter given, one page at a time (keyset)."""
    container = container_of(request)
    params = ListParameters(
        q=q,
        tags=tuple(tag or ()),
        channel=channel,
        attrs=tuple(attr or ()),
        active_within_days=active_within_days,
        min_orders=min_orders,
        min_revenue=min_revenue,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    page = await list_contacts(container.store, tenant, params, container.clock.now())
    return ContactListOut(
        contacts=[ContactRowOut(**row_document(r, page.currency)) for r in page.rows],
        next_cursor=page.next_cursor,
    )


ATTRIBUTES_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "additionalProperties": {
                    "anyOf": [
                        {"type": "string"},
                        {"type": "number"},
                        {"type": "boolean"},
                        {"type": "null"},
                    ]
                },
                "description": "Attribute name → value (null clears it).",
            },
            "example": {"vip_level": 3, "birthday": "1990-05-01", "wholesale": True},
        }
    },
}


@router.put(
    ONE + "/attributes",
    openapi_extra={"requestBody": ATTRIBUTES_BODY},
    responses={
        422: {
            "model": ErrorBody,
            "description": "An undeclared name or a value of the wrong type "
            "(`invalid_attributes`; `problems` names each field); nothing was applied",
        }
    },
)
async def put_attributes(contact_id: str, tenant: TenantAccess, request: Request) -> AttributesOut:
    """Set the named attributes of the contact (``null`` clears one), all or nothing.

    Names must be declared in the tenant's bundle (``tenant.attributes``) and
    values fit their type: text, number (a JSON number or decimal string, at
    most 6 places), date (``YYYY-MM-DD``) or bool. Returns every value the
    contact has afterwards.
    """
    raw = await read_limited_body(request, MAX_ATTRIBUTES_BODY)
    try:
        body = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise BadRequestError("body is not valid JSON", code="invalid_json") from None
    if not isinstance(body, dict):
        raise BadRequestError(
            "body: a JSON object of attribute name → value", code="invalid_attributes"
        )
    container = container_of(request)
    values = await set_attributes(container.store, tenant, contact_id, body, container.clock.now())
    return AttributesOut(contact_id=contact_id, attributes=attributes_document(values))


@router.get(ONE + "/attributes")
async def attributes_of(contact_id: str, tenant: TenantAccess, request: Request) -> AttributesOut:
    """The contact's attribute values."""
    values = await get_attributes(container_of(request).store, tenant, contact_id)
    return AttributesOut(contact_id=contact_id, attributes=attributes_document(values))


@router.get(ONE + "/timeline", responses=INVALID_FILTER)
async def timeline(
    contact_id: str,
    tenant: TenantAccess,
    request: Request,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(description="Items per page (1–200, default 50).")] = None,
) -> TimelineOut:
    """The contact's history, newest first: messages (with delivery status), consents
    granted and withdrawn (topic, wording, source), opt-outs, handoffs, business
    events, proactive sends held for later (broadcast receipts) and notes."""
    page = await contact_timeline(container_of(request).store, tenant, contact_id, cursor, limit)
    return TimelineOut(
        contact_id=page.contact.id,
        items=[item_document(i) for i in page.items],
        next_cursor=page.next_cursor,
    )
