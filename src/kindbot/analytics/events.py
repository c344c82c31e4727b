"""Validating business events (issue 16 §1), as pure functions.

:func:`parse_event` turns one raw event (a JSON object, or a CSV row read
into a mapping) into a :class:`~kindbot.core.records.analytics.BusinessEvent`
or raises :class:`EventFieldError` naming the field and the reason;
:func:`parse_batch` checks a whole batch and reports every bad row at once
(:class:`InvalidEventsError`), so a caller applies all of a batch or none of it.

Fields:

* ``event_id`` — the shop's id, 1–200 characters, unique per tenant (a
  repeat is accepted and ignored);
* ``type`` — ``order``, ``refund``, ``signup`` or a custom ``[a-z][a-z0-9_]*``
  (at most 64 characters);
* ``occurred_at`` — ISO 8601 with a UTC offset (``2026-12-01T09:30:00+08:00``,
  ``…Z``); stored in UTC;
* the contact — ``contact_id`` (kindbot's id), or ``channel`` (the channel's
  id within the tenant) with ``external_id`` (the OpenID, webhook user, …);
* ``amount`` — a decimal string or a number, at least 0, no more decimal
  places than the currency has; required for ``order`` and ``refund``;
* ``currency`` — ISO 4217 (default the tenant's, ``CNY``);
* ``order_id`` — required for ``refund`` (the order it refunds);
* ``properties`` — a JSON object of at most 4 KiB (compact UTF-8 JSON).

Any other field is refused (a misspelt ``ammount`` must not pass silently).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from kindbot.analytics.money import DEFAULT_CURRENCY, AmountError, check_currency, to_minor
from kindbot.core.edge import check_text
from kindbot.core.errors import KindbotError
from kindbot.core.records.analytics import BusinessEvent, EventContact

ORDER = "order"
REFUND = "refund"
SIGNUP = "signup"
MONEY_TYPES = frozenset({ORDER, REFUND})
"""Types that must carry an amount."""

MAX_BATCH = 1000
"""Events per API request."""
MAX_EVENT_ID = 200
MAX_TYPE = 64
MAX_ORDER_ID = 200
MAX_CONTACT_ID = 32
MAX_CHANNEL = 64
MAX_EXTERNAL_ID = 200
MAX_PROPERTIES_BYTES = 4096
MAX_PROBLEMS = 50
"""Problems reported for one batch (the rest are counted, not listed)."""

FIELDS = frozenset(
    {
        "event_id",
        "type",
        "occurred_at",
        "contact_id",
        "channel",
        "external_id",
        "amount",
        "currency",
        "order_id",
        "properties",
    }
)
_TYPE = re.compile(r"[a-z][a-z0-9_]*")


class EventFieldError(ValueError):
    """One field of one event is wrong: ``field`` and ``reason``."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class EventProblem:
    """Where a batch is wrong: the event's 0-based ``index``, the ``field``, the ``reason``."""

    index: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"events[{self.index}].{self.field}: {self.reason}"


class InvalidEventsError(KindbotError):
    """Some events of a batch are invalid; nothing of the batch was applied.

    ``problems`` lists up to :data:`MAX_PROBLEMS` of them, first first.
    """

    code = "invalid_events"
    http_status = 422

    def __init__(self, problems: Sequence[EventProblem], total: int | None = None) -> None:
        self.problems = tuple(problems)
        more = (total or len(problems)) - len(problems)
        text = "; ".join(str(p) for p in self.problems)
        if more > 0:
            text += f"; and {more} more"
        super().__init__(f"nothing was applied: {text}")

    def details(self) -> dict[str, object]:
        """``problems``: ``[{"index", "field", "reason"}, …]`` (``index`` counts from 0)."""
        return {
            "problems": [
                {"index": p.index, "field": p.field, "reason": p.reason} for p in self.problems
            ]
        }


def _text(raw: Mapping[str, object], field: str, limit: int, *, required: bool) -> str | None:
    value = raw.get(field)
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise EventFieldError(field, "required")
        return None
    if not isinstance(value, str):
        raise EventFieldError(field, "must be a string")
    value = value.strip()
    if not value:
        raise EventFieldError(field, "must not be empty")
    if len(value) > limit:
        raise EventFieldError(field, f"at most {limit} characters")
    try:
        check_text(value, field=field)
    except KindbotError:
        raise EventFieldError(field, "holds a character that is not valid text") from None
    return value


def _type(raw: Mapping[str, object]) -> str:
    value = _text(raw, "type", MAX_TYPE, required=True)
    assert value is not None
    if not _TYPE.fullmatch(value):
        raise EventFieldError(
            "type", "order, refund, signup or a custom type matching [a-z][a-z0-9_]*"
        )
    return value


def parse_occurred_at(value: object) -> datetime:
    """An ISO 8601 time with a UTC offset, in UTC (:class:`EventFieldError` otherwise)."""
    if not isinstance(value, str) or not value.strip():
        raise EventFieldError("occurred_at", "required: an ISO 8601 time with an offset")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise EventFieldError(
            "occurred_at", "not an ISO 8601 time (like 2026-12-01T09:30:00+08:00)"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise EventFieldError("occurred_at", "needs a UTC offset (like +08:00 or Z)")
    return parsed.astimezone(UTC)


def _contact(raw: Mapping[str, object]) -> EventContact:
    contact_id = _text(raw, "contact_id", MAX_CONTACT_ID, required=False)
    channel = _text(raw, "channel", MAX_CHANNEL, required=False)
    external_id = _text(raw, "external_id", MAX_EXTERNAL_ID, required=False)
    if contact_id is not None:
        if channel is not None or external_id is not None:
            field = "channel" if channel is not None else "external_id"
            raise EventFieldError(field, "give either contact_id or channel + external_id")
        return EventContact(contact_id=contact_id)
    if channel is None and external_id is None:
        raise EventFieldError("contact_id", "required: contact_id, or channel + external_id")
    if channel is None:
        raise EventFieldError("channel", "required with external_id")
    if external_id is None:
        raise EventFieldError("external_id", "required with channel")
    return EventContact(channel=channel, external_id=external_id)


def _amount(raw: Mapping[str, object], kind: str) -> tuple[int | None, str | None]:
    currency_raw = raw.get("currency")
    if currency_raw is None or currency_raw == "":
        currency = DEFAULT_CURRENCY
    elif isinstance(currency_raw, str):
        try:
            currency = check_currency(currency_raw.strip())
        except AmountError as exc:
            raise EventFieldError("currency", str(exc)) from None
    else:
        raise EventFieldError("currency", "must be a string (an ISO 4217 code such as CNY)")
    amount = raw.get("amount")
    if amount is None or amount == "":
        if kind in MONEY_TYPES:
            raise EventFieldError("amount", f"required for {kind} events")
        return None, None
    if isinstance(amount, bool) or not isinstance(amount, str | int | float | Decimal):
        raise EventFieldError("amount", "must be a decimal string or a number")
    value: str | int | Decimal = Decimal(repr(amount)) if isinstance(amount, float) else amount
    try:
        return to_minor(value, currency), currency
    except AmountError as exc:
        raise EventFieldError("amount", str(exc)) from None


def _number(value: object) -> float:
    """A JSON number read as a :class:`~decimal.Decimal` (callers parse amounts exactly)
    written back as a number."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _properties(raw: Mapping[str, object]) -> str | None:
    value = raw.get("properties")
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise EventFieldError("properties", "must be a JSON object")
    try:
        text = json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_number
        )
    except (TypeError, ValueError):
        raise EventFieldError("properties", "must be plain JSON") from None
    if not value:
        return None
    if len(text.encode("utf-8")) > MAX_PROPERTIES_BYTES:
        raise EventFieldError("properties", f"at most {MAX_PROPERTIES_BYTES} bytes as JSON")
    return text


def parse_event(raw: Mapping[str, object]) -> BusinessEvent:
    """One validated event, or :class:`EventFieldError` for its first wrong field."""
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise EventFieldError(unknown[0], "unknown field")
    event_id = _text(raw, "event_id", MAX_EVENT_ID, required=True)
    assert event_id is not None
    kind = _type(raw)
    occurred_at = parse_occurred_at(raw.get("occurred_at"))
    contact = _contact(raw)
    amount, currency = _amount(raw, kind)
    order_id = _text(raw, "order_id", MAX_ORDER_ID, required=kind == REFUND)
    return BusinessEvent(
        event_id=event_id,
        type=kind,
        occurred_at=occurred_at,
        contact=contact,
        amount_minor=amount,
        currency=currency,
        order_id=order_id,
        properties_json=_properties(raw),
    )


def parse_batch(rows: Sequence[object]) -> list[BusinessEvent]:
    """Every event of ``rows`` validated, or :class:`InvalidEventsError` listing the bad ones."""
    events: list[BusinessEvent] = []
    problems: list[EventProblem] = []
    bad = 0
    for index, raw in enumerate(rows):
        try:
            if not isinstance(raw, Mapping):
                raise EventFieldError("event", "must be a JSON object")
            events.append(parse_event(raw))
        except EventFieldError as exc:
            bad += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append(EventProblem(index, exc.field, exc.reason))
    if problems:
        raise InvalidEventsError(problems, bad)
    return events
