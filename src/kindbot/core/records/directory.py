"""The contact directory's records (issue 16 §2): custom attributes, the contact
list's filters and rows, and a contact's timeline.

Contract module: imports only the standard library. The pure rules that make
these (validating values, parsing filters and cursors) live in
:mod:`kindbot.contacts`; the SQL that reads and writes them in ``storage/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class AttributeType(StrEnum):
    """What an attribute's values are; each type has its own column."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOL = "bool"


AttributeValue = str | Decimal | date | bool
"""A typed attribute value: ``str`` (text), ``Decimal`` (number, exact), ``date``, ``bool``."""


@dataclass(frozen=True, slots=True)
class AttributeDefinition:
    """One custom attribute a tenant declared in its bundle (``tenant.attributes``)."""

    name: str
    type: AttributeType
    label: str


@dataclass(frozen=True, slots=True)
class AttributeChange:
    """Set ``name`` to ``value`` (of ``type``), or clear it (``value`` None)."""

    name: str
    type: AttributeType
    value: AttributeValue | None


@dataclass(frozen=True, slots=True)
class ContactAttribute:
    """A stored value of one attribute of one contact."""

    name: str
    type: AttributeType
    value: AttributeValue
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DefinitionSync:
    """What replacing a tenant's attribute declarations did.

    ``values_removed``: stored values dropped because their attribute is no
    longer declared or changed its type (they would be read as the wrong type).
    """

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    values_removed: int


# -- the contact list -----------------------------------------------------------------------


class AttributeOp(StrEnum):
    """How an attribute filter compares (``attr=name:op:value``)."""

    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    CONTAINS = "contains"
    SET = "set"
    UNSET = "unset"


@dataclass(frozen=True, slots=True)
class AttributeCondition:
    """One attribute filter, typed by the attribute's declaration.

    ``value`` is None exactly for :attr:`AttributeOp.SET` / :attr:`AttributeOp.UNSET`.
    ``ne`` matches contacts that have a value and it differs.
    """

    name: str
    type: AttributeType
    op: AttributeOp
    value: AttributeValue | None


class ContactSort(StrEnum):
    """The contact list's orders (each ends with the contact id, so ties are stable)."""

    LAST_ACTIVE = "last_active"
    """Most recently active first; never-active contacts last."""
    CREATED = "created"
    """Newest contacts first."""
    ORDERS = "orders"
    """Most orders first."""
    REVENUE = "revenue"
    """Highest revenue first."""
    NAME = "name"
    """By display name (then external id), A first."""


SortValue = datetime | int | str
"""The sort column's value of a row: a time (last_active, created), an integer
(orders, revenue in minor units) or text (name)."""


@dataclass(frozen=True, slots=True)
class ContactCursor:
    """Where a page ends: the last row's sort value and id (keyset pagination)."""

    sort: ContactSort
    value: SortValue
    contact_id: str


@dataclass(frozen=True, slots=True)
class ContactFilter:
    """Which of a tenant's contacts the list shows; every field narrows it (AND).

    ``text``: a case-insensitive substring of the display name or external id;
    ``tags``: the contact carries every one; ``channel``: the channel's local id;
    ``active_since``: last active (latest inbound message or business event) at or
    after; ``min_orders``: at least this many order events; ``min_revenue_minor``:
    orders minus refunds (in ``currency``, minor units) at least this much.
    """

    text: str | None = None
    tags: tuple[str, ...] = ()
    channel: str | None = None
    attributes: tuple[AttributeCondition, ...] = ()
    active_since: datetime | None = None
    min_orders: int | None = None
    min_revenue_minor: int | None = None


@dataclass(frozen=True, slots=True)
class ContactSearch:
    """One page request of the contact list."""

    tenant_id: str
    filter: ContactFilter
    sort: ContactSort
    currency: str
    after: ContactCursor | None
    limit: int


@dataclass(frozen=True, slots=True)
class DirectoryRow:
    """One contact as the list shows it.

    ``orders`` counts ``order`` events; ``revenue_minor`` is order amounts minus
    refund amounts in the search's currency; ``last_active`` is None for a
    contact that never wrote and has no business event.
    """

    contact_id: str
    channel: str
    external_id: str
    display_name: str | None
    tags: tuple[str, ...]
    last_active: datetime | None
    orders: int
    revenue_minor: int
    created_at: datetime
    source: str

    def sort_value(self, sort: ContactSort) -> SortValue:
        """This row's value of the ``sort`` order (what a cursor after it carries)."""
        if sort is ContactSort.LAST_ACTIVE:
            return self.last_active if self.last_active is not None else NEVER_ACTIVE
        if sort is ContactSort.CREATED:
            return self.created_at
        if sort is ContactSort.ORDERS:
            return self.orders
        if sort is ContactSort.REVENUE:
            return self.revenue_minor
        return name_key(self.display_name, self.external_id)


NEVER_ACTIVE = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
"""The ``last_active`` sort value of a contact that was never active (sorts last)."""


def name_key(display_name: str | None, external_id: str) -> str:
    """The ``name`` order's key: the display name, or the external id when there is none."""
    return display_name if display_name else external_id


# -- the timeline ----------------------------------------------------------------------------


class TimelineKind(StrEnum):
    """What a timeline item is. The values order items that share a time."""

    MESSAGE_IN = "message_in"
    MESSAGE_OUT = "message_out"
    CONSENT_GRANTED = "consent_granted"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    OPT_OUT = "opt_out"
    HANDOFF_REQUESTED = "handoff_requested"
    HANDOFF_CLAIMED = "handoff_claimed"
    HANDOFF_RESOLVED = "handoff_resolved"
    EVENT = "event"
    PROACTIVE_SEND = "proactive_send"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class TimelineCursor:
    """Where a timeline page ends: its last item's time, kind and id."""

    at: datetime
    kind: TimelineKind
    item_id: str


@dataclass(frozen=True, slots=True)
class MessageItem:
    """A message from (``message_in``) or to (``message_out``) the contact.

    ``status``: an outbound message's delivery (its outbox row's status:
    ``pending``, ``sent``, ``failed`` …); an inbound one's processing status.
    """

    at: datetime
    kind: TimelineKind
    item_id: str
    conversation_id: str
    text: str
    status: str
    generated: bool


@dataclass(frozen=True, slots=True)
class ConsentItem:
    """A consent granted or withdrawn (by topic, with the wording agreed to and its source)."""

    at: datetime
    kind: TimelineKind
    item_id: str
    topic: str
    wording: str
    source: str


@dataclass(frozen=True, slots=True)
class OptOutItem:
    """The contact opted out of every proactive message by message (STOP, 退订)."""

    at: datetime
    kind: TimelineKind
    item_id: str


@dataclass(frozen=True, slots=True)
class HandoffItem:
    """A conversation handed to a person: requested, claimed by ``agent``, or resolved
    (with the contact's ``rating`` if given)."""

    at: datetime
    kind: TimelineKind
    item_id: str
    agent: str | None
    rating: int | None


@dataclass(frozen=True, slots=True)
class EventItem:
    """A business event about the contact (``item_id`` is the shop's ``event_id``)."""

    at: datetime
    kind: TimelineKind
    item_id: str
    type: str
    amount_minor: int | None
    currency: str | None
    order_id: str | None


@dataclass(frozen=True, slots=True)
class ProactiveSendItem:
    """A proactive send the guard held for later (quiet hours, caps): a broadcast's or
    follow-up's receipt for this contact, with its ``status`` (``pending``, ``sent``,
    ``denied``, …) and the ``broadcast_id`` it belongs to (None: not a broadcast)."""

    at: datetime
    kind: TimelineKind
    item_id: str
    topic: str
    status: str
    broadcast_id: str | None
    text: str


@dataclass(frozen=True, slots=True)
class NoteItem:
    """An internal note of the shop's people on one of the contact's conversations."""

    at: datetime
    kind: TimelineKind
    item_id: str
    conversation_id: str
    author: str
    text: str


TimelineItem = (
    MessageItem | ConsentItem | OptOutItem | HandoffItem | EventItem | ProactiveSendItem | NoteItem
)
"""One entry of a contact's timeline; every variant has ``at``, ``kind`` and ``item_id``."""
