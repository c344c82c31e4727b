"""Validation of business events: every field, with the field named in the error."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kindbot.analytics.events import (
    EventFieldError,
    InvalidEventsError,
    parse_batch,
    parse_event,
)
from kindbot.core.records.analytics import EventContact

GOOD: dict[str, object] = {
    "event_id": "o-1",
    "type": "order",
    "occurred_at": "2026-12-01T09:30:00+08:00",
    "channel": "web",
    "external_id": "visitor-1",
    "amount": "19.99",
}


def with_(**changes: object) -> dict[str, object]:
    event = dict(GOOD)
    for key, value in changes.items():
        if value is ...:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def test_a_good_order_is_parsed_exactly() -> None:
    event = parse_event(with_(properties={"sku": "tea-1", "qty": 2}))

    assert event.event_id == "o-1"
    assert event.type == "order"
    assert event.occurred_at == datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    assert event.contact == EventContact(channel="web", external_id="visitor-1")
    assert (event.amount_minor, event.currency) == (1999, "CNY")
    assert event.properties_json == '{"sku":"tea-1","qty":2}'


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("19.99", None, 1999),
        ("19.9", "CNY", 1990),
        ("19.990", "CNY", 1999),  # trailing zeros are not places
        (20, "CNY", 2000),
        (Decimal("0.01"), "USD", 1),
        (19.99, "CNY", 1999),  # a JSON number that arrived as a float
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("0", "CNY", 0),
    ],
)
def test_amounts_become_integer_minor_units(
    amount: object, currency: str | None, minor: int
) -> None:
    event = parse_event(with_(amount=amount, currency=currency if currency else ...))

    assert event.amount_minor == minor
    assert isinstance(event.amount_minor, int)


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"event_id": ...}, "event_id", "required"),
        ({"event_id": "  "}, "event_id", "must not be empty"),
        ({"event_id": "x" * 201}, "event_id", "at most 200"),
        ({"event_id": 7}, "event_id", "must be a string"),
        ({"event_id": "a\x00b"}, "event_id", "not valid text"),
        ({"type": ...}, "type", "required"),
        ({"type": "Order"}, "type", "[a-z][a-z0-9_]*"),
        ({"type": "1st"}, "type", "[a-z][a-z0-9_]*"),
        ({"occurred_at": ...}, "occurred_at", "required"),
        ({"occurred_at": "2026-12-01T09:30:00"}, "occurred_at", "UTC offset"),
        ({"occurred_at": "2026-12-01"}, "occurred_at", "UTC offset"),
        ({"occurred_at": "yesterday"}, "occurred_at", "ISO 8601"),
        ({"channel": ..., "external_id": ...}, "contact_id", "required"),
        ({"channel": ...}, "channel", "required with external_id"),
        ({"external_id": ...}, "external_id", "required with channel"),
        ({"contact_id": "abc"}, "channel", "either contact_id or"),
        ({"external_id": "x" * 201}, "external_id", "at most 200"),
        ({"amount": ...}, "amount", "required for order"),
        ({"amount": "-1"}, "amount", "0 or more"),
        ({"amount": "19.999"}, "amount", "more than 2 decimal places for CNY"),
        ({"amount": "1.5", "currency": "JPY"}, "amount", "more than 0 decimal places"),
        ({"amount": "1e3"}, "amount", "not a decimal number"),
        ({"amount": "NaN"}, "amount", "not a decimal number"),
        ({"amount": "١٢"}, "amount", "not a decimal number"),  # Arabic-Indic digits
        ({"amount": True}, "amount", "decimal string or a number"),
        ({"amount": "10000000000000.01"}, "amount", "too large"),
        ({"currency": "cny"}, "currency", "unknown currency"),
        ({"currency": "XYZ"}, "currency", "unknown currency"),
        ({"currency": 156}, "currency", "must be a string"),
        ({"properties": [1, 2]}, "properties", "JSON object"),
        ({"properties": {"note": "x" * 4100}}, "properties", "at most 4096 bytes"),
        ({"ammount": "1"}, "ammount", "unknown field"),
    ],
)
def test_each_bad_field_is_named_with_its_reason(
    changes: dict[str, object], field: str, reason: str
) -> None:
    with pytest.raises(EventFieldError) as caught:
        parse_event(with_(**changes))

    assert caught.value.field == field
    assert reason in caught.value.reason


def test_a_refund_needs_the_order_it_refunds() -> None:
    with pytest.raises(EventFieldError) as caught:
        parse_event(with_(type="refund"))
    refund = parse_event(with_(type="refund", order_id="1001"))

    assert caught.value.field == "order_id"
    assert refund.order_id == "1001"


def test_signups_and_custom_types_need_no_amount() -> None:
    signup = parse_event(with_(type="signup", amount=...))
    custom = parse_event(with_(type="tea_tasting_2", amount=...))

    assert (signup.amount_minor, signup.currency) == (None, None)
    assert custom.type == "tea_tasting_2"


def test_properties_keep_their_numbers_and_refuse_non_json() -> None:
    parsed = parse_event(with_(properties={"price": Decimal("1.5"), "n": 2, "ok": True}))

    assert parsed.properties_json == '{"price":1.5,"n":2,"ok":true}'
    with pytest.raises(EventFieldError) as caught:
        parse_event(with_(properties={"x": float("nan")}))
    assert caught.value.field == "properties"


def test_a_contact_id_alone_names_the_contact() -> None:
    event = parse_event(with_(channel=..., external_id=..., contact_id="c" * 32))

    assert event.contact == EventContact(contact_id="c" * 32)


def test_properties_of_exactly_4_kib_pass() -> None:
    fits = {"n": "x" * (4096 - len('{"n":""}'))}

    assert parse_event(with_(properties=fits)).properties_json is not None


def test_a_batch_reports_every_bad_event_with_its_index() -> None:
    rows = [GOOD, with_(amount="1.001"), "not an object", with_(type="Bad")]

    with pytest.raises(InvalidEventsError) as caught:
        parse_batch(rows)

    assert [(p.index, p.field) for p in caught.value.problems] == [
        (1, "amount"),
        (2, "event"),
        (3, "type"),
    ]
    assert caught.value.http_status == 422
    assert "events[1].amount" in caught.value.message
    assert caught.value.details()["problems"] == [
        {"index": 1, "field": "amount", "reason": "more than 2 decimal places for CNY"},
        {"index": 2, "field": "event", "reason": "must be a JSON object"},
        {
            "index": 3,
            "field": "type",
            "reason": "order, refund, signup or a custom type matching [a-z][a-z0-9_]*",
        },
    ]
