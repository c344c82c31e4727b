"""The contact list's request: filters, sort, page size and cursor, parsed from what a
person types (query parameters, CLI options) into a :class:`ContactSearch`.

Every problem is a 422 ``invalid_filter`` whose message names the parameter
(``attr[1]``, ``min_revenue``, ``cursor`` …). Cursors are opaque to callers:
URL-safe base64 of the last row's sort value and id, tied to their sort.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from kindbot.contacts.attributes import text_value
from kindbot.core.errors import KindbotError
from kindbot.core.records.directory import (
    AttributeCondition,
    AttributeDefinition,
    AttributeOp,
    AttributeType,
    ContactCursor,
    ContactFilter,
    ContactSearch,
    ContactSort,
    SortValue,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_TEXT = 200
MAX_TAGS = 10
MAX_CONDITIONS = 10
MAX_DAYS = 36_500
MAX_ORDERS = 10**9
MAX_MINOR = 10**15

_OPS_BY_TYPE = {
    AttributeType.TEXT: frozenset(AttributeOp) - {AttributeOp.GT, AttributeOp.GTE,
                                                   AttributeOp.LT, AttributeOp.LTE},
    AttributeType.NUMBER: frozenset(AttributeOp) - {AttributeOp.CONTAINS},
    AttributeType.DATE: frozenset(AttributeOp) - {AttributeOp.CONTAINS},
    AttributeType.BOOL: frozenset({AttributeOp.EQ, AttributeOp.NE, AttributeOp.SET,
                                   AttributeOp.UNSET}),
}  # fmt: skip
"""Which comparisons make sense for each type."""
_NO_VALUE = frozenset({AttributeOp.SET, AttributeOp.UNSET})


def ops_for(kind: AttributeType) -> frozenset[AttributeOp]:
    """The comparisons an attribute of ``kind`` can be filtered by."""
    return _OPS_BY_TYPE[kind]


_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)


class InvalidFilterError(KindbotError):
    """A filter, sort, limit or cursor of the contact list is not understood."""

    code = "invalid_filter"
    http_status = 422


@dataclass(frozen=True, slots=True)
class ListParameters:
    """The contact list's parameters as given (strings and numbers, unchecked).

    ``attrs``: ``name:op:value`` (``name:set`` / ``name:unset`` take no value;
    the value may itself contain ``:``). ``min_revenue``: a decimal amount in
    the shop's currency. ``cursor``: the ``next_cursor`` of the previous page.
    """

    q: str | None = None
    tags: tuple[str, ...] = ()
    channel: str | None = None
    attrs: tuple[str, ...] = ()
    active_within_days: int | None = None
    min_orders: int | None = None
    min_revenue: str | None = None
    sort: str | None = None
    cursor: str | None = None
    limit: int | None = None


def parse_condition(
    text: str, definitions: Sequence[AttributeDefinition], where: str = "attr"
) -> AttributeCondition:
    """One ``name:op:value`` filter, typed by the attribute's declaration."""
    name, _, rest = text.partition(":")
    op_text, colon, value_text = rest.partition(":")
    declared = {d.name: d for d in definitions}
    definition = declared.get(name.strip())
    if definition is None:
        known = ", ".join(sorted(declared)) or "none"
        raise InvalidFilterError(
            f"{where}: {name.strip()!r} is not a declared attribute (declared: {known})"
        )
    try:
        op = AttributeOp(op_text.strip())
    except ValueError:
        ops = ", ".join(o.value for o in AttributeOp if o in _OPS_BY_TYPE[definition.type])
        raise InvalidFilterError(
            f"{where}: expected name:op:value with op one of {ops}, got {text!r}"
        ) from None
    if op not in _OPS_BY_TYPE[definition.type]:
        raise InvalidFilterError(
            f"{where}: {op.value} does not apply to {definition.type.value} attribute {name!r}"
        )
    if op in _NO_VALUE:
        if colon and value_text:
            raise InvalidFilterError(f"{where}: {op.value} takes no value")
        return AttributeCondition(definition.name, definition.type, op, None)
    if not colon:
        raise InvalidFilterError(f"{where}: {op.value} needs a value (name:op:value)")
    try:
        value = text_value(definition.type, value_text)
    except ValueError as exc:
        raise InvalidFilterError(f"{where}: {definition.name}: {exc}") from None
    return AttributeCondition(definition.name, definition.type, op, value)


def parse_amount(text: str, digits: int, where: str = "min_revenue") -> int:
    """A non-negative decimal amount as integer minor units (at most ``digits`` places)."""
    text = text.strip()
    if not _AMOUNT.fullmatch(text):
        raise InvalidFilterError(f"{where}: expected an amount like 100 or 99.50, got {text!r}")
    amount = Decimal(text)
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int), "a finite decimal"
    if -exponent > digits:
        raise InvalidFilterError(f"{where}: at most {digits} decimal places")
    minor = int(amount.scaleb(digits))
    if minor > MAX_MINOR:
        raise InvalidFilterError(f"{where}: too large")
    return minor


def parse_search(
    params: ListParameters,
    *,
    tenant_id: str,
    definitions: Sequence[AttributeDefinition],
    currency: str,
    currency_digits: int,
    now: datetime,
) -> ContactSearch:
    """The page request ``params`` asks for (all checks here; the SQL trusts it)."""
    sort = _sort(params.sort)
    limit = DEFAULT_LIMIT if params.limit is None else params.limit
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidFilterError(f"limit: between 1 and {MAX_LIMIT}, got {limit}")
    text = (params.q or "").strip() or None
    if text is not None and len(text) > MAX_TEXT:
        raise InvalidFilterError(f"q: at most {MAX_TEXT} characters")
    tags = tuple(dict.fromkeys(t.strip() for t in params.tags if t.strip()))
    if len(tags) > MAX_TAGS:
        raise InvalidFilterError(f"tag: at most {MAX_TAGS} tags")
    if len(params.attrs) > MAX_CONDITIONS:
        raise InvalidFilterError(f"attr: at most {MAX_CONDITIONS} conditions")
    conditions = tuple(
        parse_condition(a, definitions, f"attr[{i}]") for i, a in enumerate(params.attrs)
    )
    active_since = None
    if params.active_within_days is not None:
        if not 1 <= params.active_within_days <= MAX_DAYS:
            raise InvalidFilterError(f"active_within_days: between 1 and {MAX_DAYS}")
        active_since = now - timedelta(days=params.active_within_days)
    if params.min_orders is not None and not 0 <= params.min_orders <= MAX_ORDERS:
        raise InvalidFilterError(f"min_orders: between 0 and {MAX_ORDERS}")
    revenue = None
    if params.min_revenue is not None and params.min_revenue.strip():
        revenue = parse_amount(params.min_revenue, currency_digits)
    channel = (params.channel or "").strip() or None
    return ContactSearch(
        tenant_id=tenant_id,
        filter=ContactFilter(
            text=text,
            tags=tags,
            channel=channel,
            attributes=conditions,
            active_since=active_since,
            min_orders=params.min_orders,
            min_revenue_minor=revenue,
        ),
        sort=sort,
        currency=currency,
        after=decode_cursor(params.cursor, sort) if params.cursor else None,
        limit=limit,
    )


def _sort(text: str | None) -> ContactSort:
    if text is None or not text.strip():
        return ContactSort.LAST_ACTIVE
    try:
        return ContactSort(text.strip())
    except ValueError:
        names = ", ".join(s.value for s in ContactSort)
        raise InvalidFilterError(f"sort: one of {names}, got {text!r}") from None


def encode_cursor(cursor: ContactCursor) -> str:
    """The opaque text of a cursor (URL-safe)."""
    value = cursor.value.isoformat() if isinstance(cursor.value, datetime) else cursor.value
    raw = json.dumps([cursor.sort.value, value, cursor.contact_id], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str, sort: ContactSort) -> ContactCursor:
    """The cursor ``text`` encodes; it must have been made for ``sort``."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        made_for, value, contact_id = json.loads(raw)
        made = ContactSort(made_for)
        typed = _typed(made, value)
        if not isinstance(contact_id, str):
            raise TypeError("contact id")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidFilterError("cursor: not a cursor of this list") from None
    if made is not sort:
        raise InvalidFilterError(f"cursor: made for sort {made.value}, not {sort.value}")
    return ContactCursor(sort, typed, contact_id)


def _typed(sort: ContactSort, value: object) -> SortValue:
    if sort in (ContactSort.LAST_ACTIVE, ContactSort.CREATED):
        if not isinstance(value, str):
            raise TypeError("time")
        at = datetime.fromisoformat(value)
        if at.tzinfo is None:
            raise ValueError("naive time")
        return at
    if sort in (ContactSort.ORDERS, ContactSort.REVENUE):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("integer")
        return value
    if not isinstance(value, str):
        raise TypeError("name")
    return value
