"""The contact directory's pure rules: typed attribute values, list filters and cursors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from kindbot.contacts import timeline
from kindbot.contacts.attributes import (
    InvalidAttributesError,
    check_changes,
    json_value,
    parse_assignments,
    plain_value,
    text_value,
)
from kindbot.contacts.search import (
    InvalidFilterError,
    ListParameters,
    decode_cursor,
    encode_cursor,
    parse_amount,
    parse_condition,
    parse_search,
)
from kindbot.core.records.directory import (
    AttributeChange,
    AttributeCondition,
    AttributeDefinition,
    AttributeOp,
    AttributeType,
    ContactCursor,
    ContactSort,
    TimelineCursor,
    TimelineKind,
)

TEXT, NUMBER, DATE, BOOL = AttributeType
DEFINITIONS = [
    AttributeDefinition("level", NUMBER, "Level"),
    AttributeDefinition("birthday", DATE, "Birthday"),
    AttributeDefinition("wholesale", BOOL, "Wholesale"),
    AttributeDefinition("city", TEXT, "City"),
]
NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        (NUMBER, 3, Decimal(3)),
        (NUMBER, 2.5, Decimal("2.5")),
        (NUMBER, Decimal("0.000001"), Decimal("0.000001")),
        (NUMBER, "-12.50", Decimal("-12.50")),
        (NUMBER, "999999999999.999999", Decimal("999999999999.999999")),
        (DATE, "2024-02-29", date(2024, 2, 29)),
        (BOOL, False, False),
        (TEXT, "龙井", "龙井"),
    ],
)
def test_json_values_that_fit(kind: AttributeType, raw: object, expected: object) -> None:
    assert json_value(kind, raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw", "reason"),
    [
        (NUMBER, True, "a boolean"),
        (NUMBER, "1e3", "expected a number"),
        (NUMBER, "NaN", "expected a number"),
        (NUMBER, float("inf"), "finite"),
        (NUMBER, "0.0000001", "6 decimal places"),
        (NUMBER, "1000000000000", "less than"),
        (NUMBER, [1], "a list"),
        (DATE, "2023-02-29", "no such date"),
        (DATE, "2024-2-1", "YYYY-MM-DD"),
        (DATE, 20240201, "a number"),
        (BOOL, "true", "text"),
        (BOOL, 1, "a number"),
        (TEXT, 5, "a number"),
        (TEXT, "", "null"),
        (TEXT, "x" * 501, "500"),
    ],
)
def test_json_values_that_do_not_fit(kind: AttributeType, raw: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        json_value(kind, raw)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        (BOOL, "Yes", True),
        (BOOL, "0", False),
        (NUMBER, " 7 ", Decimal(7)),
        (DATE, "1990-05-01", date(1990, 5, 1)),
        (TEXT, "a=b", "a=b"),
    ],
)
def test_text_values(kind: AttributeType, text: str, expected: object) -> None:
    assert text_value(kind, text) == expected


def test_changes_are_checked_together_and_null_clears() -> None:
    assert check_changes(DEFINITIONS, {"level": 2, "city": None}) == (
        AttributeChange("level", NUMBER, Decimal(2)),
        AttributeChange("city", TEXT, None),
    )
    assert check_changes(DEFINITIONS, {"city": ""}, from_text=True) == (
        AttributeChange("city", TEXT, None),
    )
    with pytest.raises(InvalidAttributesError) as caught:
        check_changes(DEFINITIONS, {"level": "x", "city": "ok", "age": 3, "wholesale": "no"})
    assert [p.field for p in caught.value.problems] == ["level", "age", "wholesale"]
    assert caught.value.http_status == 422
    assert "declared: birthday, city, level, wholesale" in caught.value.message


def test_assignments() -> None:
    assert parse_assignments(["a=1", "b=", "c=x=y"]) == {"a": "1", "b": "", "c": "x=y"}
    with pytest.raises(InvalidAttributesError, match="expected name=value"):
        parse_assignments(["a"])
    with pytest.raises(InvalidAttributesError, match="given twice"):
        parse_assignments(["a=1", "a=2"])


def test_plain_values() -> None:
    assert plain_value(Decimal("3.000000")) == "3"
    assert plain_value(Decimal("1E+2")) == "100"
    assert plain_value(Decimal("0.000001")) == "0.000001"
    assert plain_value(date(2024, 2, 29)) == "2024-02-29"
    assert plain_value(True) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("level:gte:2", AttributeCondition("level", NUMBER, AttributeOp.GTE, Decimal(2))),
        ("city:eq:a:b", AttributeCondition("city", TEXT, AttributeOp.EQ, "a:b")),
        ("city:contains:hz", AttributeCondition("city", TEXT, AttributeOp.CONTAINS, "hz")),
        ("wholesale:eq:yes", AttributeCondition("wholesale", BOOL, AttributeOp.EQ, True)),
        ("birthday:set", AttributeCondition("birthday", DATE, AttributeOp.SET, None)),
        ("birthday:unset:", AttributeCondition("birthday", DATE, AttributeOp.UNSET, None)),
    ],
)
def test_conditions(text: str, expected: AttributeCondition) -> None:
    assert parse_condition(text, DEFINITIONS) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("age:gt:3", "not a declared attribute"),
        ("level", "expected name:op:value"),
        ("level:about:3", "expected name:op:value"),
        ("level:gt", "needs a value"),
        ("level:set:3", "takes no value"),
        ("city:gt:a", "does not apply to text"),
        ("level:contains:1", "does not apply to number"),
        ("wholesale:lt:true", "does not apply to bool"),
        ("birthday:gt:tomorrow", "YYYY-MM-DD"),
    ],
)
def test_bad_conditions_name_the_parameter(text: str, reason: str) -> None:
    with pytest.raises(InvalidFilterError, match=reason) as caught:
        parse_condition(text, DEFINITIONS, "attr[2]")
    assert caught.value.message.startswith("attr[2]: ")


def test_amounts_are_minor_units() -> None:
    assert parse_amount("15", 2) == 1500
    assert parse_amount("0.5", 2) == 50
    assert parse_amount("100", 0) == 100
    for bad in ("1.005", "-1", "1e3", "", "1" * 20):
        with pytest.raises(InvalidFilterError, match="min_revenue"):
            parse_amount(bad, 2)


def test_a_search_from_parameters() -> None:
    search = parse_search(
        ListParameters(
            q="  amy ",
            tags=("vip", " ", "vip", "tea"),
            attrs=("level:gt:1",),
            active_within_days=7,
            min_orders=2,
            min_revenue="9.99",
            sort="revenue",
            limit=10,
        ),
        tenant_id="t",
        definitions=DEFINITIONS,
        currency="CNY",
        currency_digits=2,
        now=NOW,
    )
    wanted = search.filter
    assert (wanted.text, wanted.tags, wanted.channel) == ("amy", ("vip", "tea"), None)
    assert wanted.active_since == NOW - timedelta(days=7)
    assert (wanted.min_orders, wanted.min_revenue_minor) == (2, 999)
    assert (search.sort, search.limit, search.after) == (ContactSort.REVENUE, 10, None)
    default = parse_search(
        ListParameters(),
        tenant_id="t",
        definitions=[],
        currency="CNY",
        currency_digits=2,
        now=NOW,
    )
    assert (default.sort, default.limit) == (ContactSort.LAST_ACTIVE, 50)


@pytest.mark.parametrize(
    "cursor",
    [
        ContactCursor(ContactSort.LAST_ACTIVE, NOW, "c1"),
        ContactCursor(ContactSort.CREATED, NOW + timedelta(microseconds=7), "c2"),
        ContactCursor(ContactSort.ORDERS, 3, "c3"),
        ContactCursor(ContactSort.REVENUE, -250, "c4"),
        ContactCursor(ContactSort.NAME, "王 小明", "c5"),
    ],
)
def test_list_cursors_round_trip(cursor: ContactCursor) -> None:
    text = encode_cursor(cursor)
    assert text.isascii()
    assert "=" not in text
    assert decode_cursor(text, cursor.sort) == cursor


def test_a_list_cursor_must_fit_its_sort() -> None:
    text = encode_cursor(ContactCursor(ContactSort.ORDERS, 3, "c"))
    with pytest.raises(InvalidFilterError, match="made for sort orders"):
        decode_cursor(text, ContactSort.NAME)
    for junk in ("", "x", "bm90IGpzb24", encode_cursor(ContactCursor(ContactSort.NAME, "a", "c"))):
        with pytest.raises(InvalidFilterError, match="cursor"):
            decode_cursor(junk, ContactSort.ORDERS)


def test_timeline_cursors_round_trip_and_refuse_junk() -> None:
    cursor = TimelineCursor(NOW, TimelineKind.NOTE, "n1")
    assert timeline.decode_cursor(timeline.encode_cursor(cursor)) == cursor
    for junk in ("x", "WyJub3QiXQ", timeline.encode_cursor(cursor)[:-2]):
        with pytest.raises(InvalidFilterError, match="cursor"):
            timeline.decode_cursor(junk)
    assert timeline.check_limit(None) == timeline.DEFAULT_LIMIT
    with pytest.raises(InvalidFilterError, match="limit"):
        timeline.check_limit(201)
