"""The contact directory (issue 16 §2) as the API, the CLI and the dashboard use it:
a contact's custom attributes, the searchable contact list and a contact's timeline.

Contacts are named by their kindbot id here (the list shows it); one of
another tenant is ``unknown_contact`` (404), exactly like one that does not
exist. Setting attributes is all or nothing: one undeclared name or badly
typed value refuses the whole request (422 ``invalid_attributes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from kindbot.analytics.money import DEFAULT_CURRENCY, MINOR_DIGITS, format_minor
from kindbot.contacts import search as list_rules
from kindbot.contacts import timeline as timeline_rules
from kindbot.contacts.attributes import check_changes, plain_value
from kindbot.contacts.search import ListParameters
from kindbot.core.errors import NotFoundError
from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.conversations import ContactRecord
from kindbot.core.records.directory import (
    ContactAttribute,
    ContactCursor,
    DirectoryRow,
    EventItem,
    TimelineCursor,
    TimelineItem,
)
from kindbot.core.records.tenancy import TenantRecord


async def contact_of(tx: Transaction, tenant: TenantRecord, contact_id: str) -> ContactRecord:
    """The tenant's contact with this id, or :class:`NotFoundError` ``unknown_contact``."""
    contact = await tx.contacts.get(contact_id) if len(contact_id) <= 64 else None
    if contact is None or contact.tenant_id != tenant.id:
        raise NotFoundError(
            f"tenant {tenant.slug!r} has no contact {contact_id!r}", code="unknown_contact"
        )
    return contact


# -- attributes -----------------------------------------------------------------------------


async def set_attributes(
    store: Store,
    tenant: TenantRecord,
    contact_id: str,
    values: Mapping[str, object],
    now: datetime,
    *,
    from_text: bool = False,
) -> list[ContactAttribute]:
    """Set (or with None, clear) each named attribute of the contact; all or nothing.

    ``from_text``: the values are a person's text (``kindbot contact attr set``).
    Returns every value the contact has afterwards.
    """
    async with store.transaction() as tx:
        contact = await contact_of(tx, tenant, contact_id)
        definitions = await tx.attributes.definitions(tenant.id)
        changes = check_changes(definitions, values, from_text=from_text)
        await tx.attributes.apply(tenant.id, contact.id, changes, now)
        return await tx.attributes.of_contact(contact.id)


async def get_attributes(
    store: Store, tenant: TenantRecord, contact_id: str
) -> list[ContactAttribute]:
    """The contact's attribute values, by name."""
    async with store.transaction(readonly=True) as tx:
        contact = await contact_of(tx, tenant, contact_id)
        return await tx.attributes.of_contact(contact.id)


def attributes_document(values: list[ContactAttribute]) -> dict[str, str | bool]:
    """name → value as JSON shows it (numbers as exact decimal strings, dates ISO)."""
    return {a.name: plain_value(a.value) for a in values}


# -- the list --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactPage:
    """One page of the contact list; ``next_cursor`` None on the last page."""

    rows: tuple[DirectoryRow, ...]
    next_cursor: str | None
    currency: str


async def list_contacts(
    store: Store, tenant: TenantRecord, params: ListParameters, now: datetime
) -> ContactPage:
    """One page of the tenant's contacts matching ``params`` (422 ``invalid_filter``).

    The attribute declarations are read only when an attribute filter is given;
    the page itself is one statement plus one for its tags.
    """
    currency = DEFAULT_CURRENCY
    async with store.transaction(readonly=True) as tx:
        definitions = await tx.attributes.definitions(tenant.id) if params.attrs else []
        search = list_rules.parse_search(
            params,
            tenant_id=tenant.id,
            definitions=definitions,
            currency=currency,
            currency_digits=MINOR_DIGITS[currency],
            now=now,
        )
        wanted = search.limit
        found = await tx.directory.search(replace(search, limit=wanted + 1))
    rows = tuple(found[:wanted])
    cursor = None
    if len(found) > wanted:
        last = rows[-1]
        cursor = list_rules.encode_cursor(
            ContactCursor(search.sort, last.sort_value(search.sort), last.contact_id)
        )
    return ContactPage(rows, cursor, currency)


def _time(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def row_document(row: DirectoryRow, currency: str) -> dict[str, Any]:
    """One contact of the list as JSON (``revenue`` a decimal string in ``currency``)."""
    return {
        "id": row.contact_id,
        "channel": row.channel,
        "external_id": row.external_id,
        "display_name": row.display_name,
        "tags": list(row.tags),
        "last_active": _time(row.last_active),
        "orders": row.orders,
        "revenue": format_minor(row.revenue_minor, currency),
        "currency": currency,
        "created_at": _time(row.created_at),
        "source": row.source,
    }


# -- the timeline ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelinePage:
    """One page of a contact's timeline, newest first; ``next_cursor`` None at the end."""

    contact: ContactRecord
    items: tuple[TimelineItem, ...]
    next_cursor: str | None


async def contact_timeline(
    store: Store, tenant: TenantRecord, contact_id: str, cursor: str | None, limit: int | None
) -> TimelinePage:
    """The items of the contact's history after ``cursor`` (newest first)."""
    size = timeline_rules.check_limit(limit)
    before = timeline_rules.decode_cursor(cursor) if cursor else None
    async with store.transaction(readonly=True) as tx:
        contact = await contact_of(tx, tenant, contact_id)
        found = await tx.timeline.page(tenant.id, contact.id, before, size + 1)
    items = tuple(found[:size])
    next_cursor = None
    if len(found) > size:
        last = items[-1]
        next_cursor = timeline_rules.encode_cursor(TimelineCursor(last.at, last.kind, last.item_id))
    return TimelinePage(contact, items, next_cursor)


def item_document(item: TimelineItem) -> dict[str, Any]:
    """One timeline item as JSON: ``at``, ``kind``, ``id`` and the kind's own fields
    (an event's ``amount`` as a decimal string in its currency)."""
    document: dict[str, Any] = {"at": _time(item.at), "kind": item.kind.value, "id": item.item_id}
    for field in fields(item):
        if field.name not in ("at", "kind", "item_id"):
            document[field.name] = getattr(item, field.name)
    if isinstance(item, EventItem):
        known = item.currency in MINOR_DIGITS and item.amount_minor is not None
        document["amount"] = (
            format_minor(item.amount_minor, item.currency)
            if known and item.amount_minor is not None and item.currency is not None
            else None
        )
    return document
