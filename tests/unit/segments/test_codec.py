"""The segment definition's validator (pure): what it accepts, how it refuses, the round trip."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kindbot.core.records.segments import AttributeFilter, AttributeOp
from kindbot.segments.codec import (
    MAX_CONDITIONS,
    InvalidSegmentError,
    check_name,
    definition_json,
    definition_text,
    parse_definition,
    parse_definition_text,
)
from kindbot.segments.definition import (
    AnyOfCondition,
    ChannelCondition,
    Condition,
    ConsentCondition,
    FirstSeenCondition,
    LastInboundCondition,
    LastOrderCondition,
    OrdersCondition,
    RevenueCondition,
    RfmCondition,
    SegmentDefinition,
    SourceCondition,
    TagsCondition,
)

VALID: list[tuple[object, Condition]] = [
    ({"tags": {"all": ["vip", "vip"], "none": ["x"]}}, TagsCondition(("vip",), (), ("x",))),
    ({"tags": {"any": [" tea "]}}, TagsCondition((), ("tea",), ())),
    ({"channel": ["web", "oa"]}, ChannelCondition(("web", "oa"))),
    ({"consent": "care"}, ConsentCondition("care")),
    ({"last_inbound": {"within_days": 30}}, LastInboundCondition(30, within=True)),
    ({"last_inbound": {"not_within_days": 7}}, LastInboundCondition(7, within=False)),
    (
        {"first_seen": {"from": "2026-01-01", "to": "2026-02-01"}},
        FirstSeenCondition(date(2026, 1, 1), date(2026, 2, 1)),
    ),
    ({"first_seen": {"to": "2026-02-01"}}, FirstSeenCondition(None, date(2026, 2, 1))),
    ({"orders": {"min": 0}}, OrdersCondition(0, None)),
    ({"orders": {"min": 2, "max": 2}}, OrdersCondition(2, 2)),
    ({"revenue": {"min": "100", "max": "250.5"}}, RevenueCondition(Decimal(100), Decimal("250.5"))),
    ({"revenue": {"max": 7}}, RevenueCondition(None, Decimal(7))),
    ({"revenue": {"min": Decimal("0.10")}}, RevenueCondition(Decimal("0.1"), None)),
    ({"last_order": {"within_days": 30}}, LastOrderCondition(30, within=True)),
    ({"last_order": {"before_days": 90}}, LastOrderCondition(90, within=False)),
    ({"rfm": {"r": [4, 5], "f": [3, 5]}}, RfmCondition((4, 5), (3, 5), None)),
    ({"rfm": {"m": [1, 1]}}, RfmCondition(None, None, (1, 1))),
    ({"source": ["event"]}, SourceCondition(("event",))),
    (
        {"attribute": {"name": "city", "op": "eq", "value": "杭州"}},
        AttributeFilter("city", AttributeOp.EQ, "杭州"),
    ),
    (
        {"attribute": {"name": "visits", "op": "gte", "value": Decimal("2.5")}},
        AttributeFilter("visits", AttributeOp.GTE, Decimal("2.5")),
    ),
    (
        {"attribute": {"name": "born", "op": "lt", "value": "2000-01-01"}},
        AttributeFilter("born", AttributeOp.LT, "2000-01-01"),
    ),
    (
        {"attribute": {"name": "member", "op": "ne", "value": True}},
        AttributeFilter("member", AttributeOp.NE, True),
    ),
    ({"attribute": {"name": "email", "op": "set"}}, AttributeFilter("email", AttributeOp.SET)),
    (
        {"any_of": [{"consent": "a"}, {"any_of": [{"consent": "b"}, {"consent": "c"}]}]},
        AnyOfCondition(
            (
                ConsentCondition("a"),
                AnyOfCondition((ConsentCondition("b"), ConsentCondition("c"))),
            )
        ),
    ),
]


@pytest.mark.parametrize(("raw", "expected"), VALID)
def test_a_valid_condition_parses_and_round_trips(raw: object, expected: Condition) -> None:
    definition = parse_definition({"all_of": [raw]})

    assert definition == SegmentDefinition((expected,))
    assert parse_definition_text(definition_text(definition)) == definition
    assert parse_definition(definition_json(definition)) == definition


INVALID = [
    ({"tags": {}}, "all_of[0].tags", "at least one of: all, any, none"),
    ({"tags": {"all": []}}, "all_of[0].tags.all", "a non-empty list of strings"),
    ({"tags": {"some": ["x"]}}, "all_of[0].tags.some", "unknown key; allowed: all, any, none"),
    ({"tags": {"all": ["x" * 65]}}, "all_of[0].tags.all[0]", "at most 64 characters"),
    ({"channel": "web"}, "all_of[0].channel", "a non-empty list of strings"),
    ({"consent": ""}, "all_of[0].consent", "a non-empty string"),
    (
        {"last_inbound": {}},
        "all_of[0].last_inbound",
        "exactly one of: within_days, not_within_days",
    ),
    (
        {"last_inbound": {"within_days": 1, "not_within_days": 2}},
        "all_of[0].last_inbound",
        "exactly one of: within_days, not_within_days",
    ),
    (
        {"last_inbound": {"within_days": 0}},
        "all_of[0].last_inbound.within_days",
        "a whole number from 1 to 3660",
    ),
    (
        {"last_inbound": {"within_days": True}},
        "all_of[0].last_inbound.within_days",
        "a whole number from 1 to 3660",
    ),
    ({"first_seen": {"from": "2026-1-1"}}, "all_of[0].first_seen.from", "a date YYYY-MM-DD"),
    (
        {"first_seen": {"from": "2026-02-01", "to": "2026-02-01"}},
        "all_of[0].first_seen.to",
        "must be after from (the range is [from, to))",
    ),
    ({"orders": {}}, "all_of[0].orders", "at least one of: min, max"),
    ({"orders": {"min": 1.5}}, "all_of[0].orders.min", "a whole number from 0 to 1000000000"),
    ({"orders": {"min": 3, "max": 2}}, "all_of[0].orders.max", "must not be below min"),
    ({"revenue": {"min": 1.5}}, "all_of[0].revenue.min", 'a decimal string such as "199.00"'),
    (
        {"revenue": {"min": "1,000"}},
        "all_of[0].revenue.min",
        "not a decimal number (write it like 19.99)",
    ),
    (
        {"revenue": {"min": "-1"}},
        "all_of[0].revenue.min",
        "must be 0 or more (a refund is its own event type)",
    ),
    ({"revenue": {"min": "0.001"}}, "all_of[0].revenue.min", "more than 2 decimal places for CNY"),
    ({"revenue": {"min": "9", "max": "8.99"}}, "all_of[0].revenue.max", "must not be below min"),
    (
        {"last_order": {"after_days": 3}},
        "all_of[0].last_order.after_days",
        "unknown key; allowed: within_days, before_days",
    ),
    ({"rfm": {"r": [0, 5]}}, "all_of[0].rfm.r", "[low, high] with scores from 1 to 5"),
    ({"rfm": {"f": [3]}}, "all_of[0].rfm.f", "[low, high] with scores from 1 to 5"),
    ({"rfm": {"m": [4, 2]}}, "all_of[0].rfm.m", "high must not be below low"),
    ({"rfm": {}}, "all_of[0].rfm", "at least one of: r, f, m"),
    ({"source": ["api"]}, "all_of[0].source[0]", "one of: message, event"),
    (
        {"attribute": {"name": "City", "op": "eq", "value": "x"}},
        "all_of[0].attribute.name",
        "an attribute name: [a-z][a-z0-9_]*, at most 64",
    ),
    (
        {"attribute": {"name": "city", "op": "like", "value": "x"}},
        "all_of[0].attribute.op",
        "one of: eq, ne, gt, gte, lt, lte, set, unset",
    ),
    ({"attribute": {"name": "city", "op": "eq"}}, "all_of[0].attribute.value", "required for eq"),
    (
        {"attribute": {"name": "city", "op": "unset", "value": 1}},
        "all_of[0].attribute.value",
        "no value for unset",
    ),
    (
        {"attribute": {"name": "n", "op": "gt", "value": True}},
        "all_of[0].attribute.value",
        "gt compares numbers or dates, not true/false",
    ),
    (
        {"attribute": {"name": "n", "op": "gt", "value": "abc"}},
        "all_of[0].attribute.value",
        "a date YYYY-MM-DD",
    ),
    (
        {"attribute": {"name": "n", "op": "eq", "value": 0.1}},
        "all_of[0].attribute.value",
        "numbers are read exactly; this one was not",
    ),
    (
        {"attribute": {"name": "n", "op": "eq", "value": [1]}},
        "all_of[0].attribute.value",
        "a string, number or true/false",
    ),
    ({"any_of": [{"consent": "a"}]}, "all_of[0].any_of", "at least 2 conditions"),
    (
        {"first_seen": {"from": "0001-01-01"}},
        "all_of[0].first_seen.from",
        "a year from 1900 to 9000",
    ),
    (
        {"attribute": {"name": "n", "op": "eq", "value": Decimal("1e100000")}},
        "all_of[0].attribute.value",
        "a finite number below 10^15 in size",
    ),
    (
        {"attribute": {"name": "n", "op": "eq", "value": Decimal("1e-100000")}},
        "all_of[0].attribute.value",
        "at most 6 decimal places",
    ),
    (
        {"consent": "a", "channel": ["web"]},
        "all_of[0]",
        "an object with one key, one of: tags, channel, consent, last_inbound, "
        "first_seen, orders, revenue, last_order, rfm, source, attribute",
    ),
]


@pytest.mark.parametrize(("raw", "path", "reason"), INVALID)
def test_an_invalid_condition_is_refused_with_its_path(raw: object, path: str, reason: str) -> None:
    with pytest.raises(InvalidSegmentError) as caught:
        parse_definition({"all_of": [raw]})

    assert caught.value.code == "invalid_segment"
    assert caught.value.http_status == 422
    assert caught.value.details() == {"problems": [{"path": path, "reason": reason}]}


def test_every_problem_is_reported_not_only_the_first() -> None:
    with pytest.raises(InvalidSegmentError) as caught:
        parse_definition({"all_of": [{"orders": {}}, {"consent": "ok"}, {"nope": 1}]})
    assert [p.path for p in caught.value.problems] == ["all_of[0].orders", "all_of[2]"]


@pytest.mark.parametrize(
    "raw", [None, [], {"any_of": []}, {"all_of": [], "x": 1}, {"all_of": {}}, "text"]
)
def test_the_definition_is_an_object_with_all_of(raw: object) -> None:
    with pytest.raises(InvalidSegmentError):
        parse_definition(raw)


def test_limits_on_size_and_nesting() -> None:
    many = {"all_of": [{"consent": f"t{i}"} for i in range(MAX_CONDITIONS + 1)]}
    with pytest.raises(InvalidSegmentError, match="at most 50 conditions"):
        parse_definition(many)
    deep: dict[str, object] = {"consent": "x"}
    for _ in range(4):
        deep = {"any_of": [deep, {"consent": "y"}]}
    with pytest.raises(InvalidSegmentError, match="any_of nests at most 3 deep"):
        parse_definition({"all_of": [deep]})
    assert parse_definition({"all_of": []}) == SegmentDefinition(())


def test_canonical_text_is_compact_and_exact() -> None:
    definition = parse_definition(
        {
            "all_of": [
                {"revenue": {"min": "1", "max": Decimal("2.5")}},
                {"attribute": {"name": "n", "op": "lt", "value": Decimal("0.1")}},
                {"tags": {"none": ["茶"]}},
            ]
        }
    )
    assert definition_text(definition) == (
        '{"all_of":[{"revenue":{"min":"1.00","max":"2.50"}},'
        '{"attribute":{"name":"n","op":"lt","value":0.1}},{"tags":{"none":["茶"]}}]}'
    )


@pytest.mark.parametrize("name", ["vip", "b-c_1", "2026", "x" * 64])
def test_good_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "a b", "-x", "x" * 65, "名字", "a/b", "VIP", "a.b"])
def test_bad_names(name: str) -> None:
    with pytest.raises(InvalidSegmentError, match="name"):
        check_name(name)
