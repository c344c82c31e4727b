"""The pure validator of a segment definition's JSON form, and its canonical JSON.

:func:`parse_definition` takes decoded JSON (numbers already
:class:`~decimal.Decimal` or ``int``; a ``float`` is refused as inexact) and
returns a :class:`~kindbot.segments.definition.SegmentDefinition`, or raises
:class:`InvalidSegmentError` listing every problem with its path
(``all_of[2].orders.min``). :func:`definition_text` writes the canonical JSON
the ``segments`` table stores; parsing it gives the same definition back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from kindbot.analytics.money import DEFAULT_CURRENCY, AmountError, format_minor, to_minor
from kindbot.core.errors import KindbotError
from kindbot.core.records.conversations import ContactSource
from kindbot.core.records.segments import AttributeOp, AttributeValue
from kindbot.segments.definition import (
    AnyOfCondition,
    AttributeCondition,
    ChannelCondition,
    Condition,
    ConsentCondition,
    FirstSeenCondition,
    LastInboundCondition,
    LastOrderCondition,
    OrdersCondition,
    RevenueCondition,
    RfmCondition,
    ScoreRange,
    SegmentDefinition,
    SourceCondition,
    TagsCondition,
)

MAX_CONDITIONS = 50
"""Conditions in one definition, counting those inside ``any_of``."""
MAX_DEPTH = 3
"""``any_of`` groups nest at most this deep below ``all_of``."""
MAX_ITEMS = 100
"""Tags, channels or sources in one condition."""
MAX_DAYS = 3660
MAX_ORDERS = 10**9
MAX_TEXT = 500
"""Longest text value of an attribute condition."""
FIRST_YEAR, LAST_YEAR = 1900, 9000
"""Dates outside these years are refused (their instants may not exist in every zone)."""
MAX_NUMBER = Decimal(10) ** 15
NUMBER_PLACES = 6
"""An attribute number is below 10^15 in size, with at most 6 decimal places."""

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}", re.ASCII)
"""A segment's name: 1–64 lowercase letters, digits, ``_`` and ``-`` (as journeys name one)."""
ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}", re.ASCII)
TAG_LIMIT = 64
TOPIC_LIMIT = 64
CHANNEL_LIMIT = 64
ORDERED_OPS = {AttributeOp.GT, AttributeOp.GTE, AttributeOp.LT, AttributeOp.LTE}
PRESENCE_OPS = {AttributeOp.SET, AttributeOp.UNSET}


@dataclass(frozen=True, slots=True)
class SegmentProblem:
    """One thing wrong in a definition: where (a JSON path) and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class InvalidSegmentError(KindbotError):
    """A segment definition (or name) is invalid; nothing was saved."""

    code = "invalid_segment"
    http_status = 422

    def __init__(self, problems: Sequence[SegmentProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def details(self) -> dict[str, object]:
        """``problems``: ``[{"path", "reason"}, …]``."""
        return {"problems": [{"path": p.path, "reason": p.reason} for p in self.problems]}


class _ProblemError(Exception):
    """Raised inside the parser; collected into :class:`InvalidSegmentError`."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.problem = SegmentProblem(path, reason)


def check_name(name: str) -> str:
    """``name`` when it is a valid segment name, else :class:`InvalidSegmentError`."""
    if not NAME.fullmatch(name):
        rule = "1-64 characters: a-z, 0-9, '_', '-' (first a letter or digit)"
        raise InvalidSegmentError([SegmentProblem("name", rule)])
    return name


def parse_definition(raw: object) -> SegmentDefinition:
    """The definition ``raw`` (decoded JSON) describes, or :class:`InvalidSegmentError`."""
    parser = _Parser()
    if not isinstance(raw, Mapping) or set(raw) != {"all_of"}:
        raise InvalidSegmentError(
            [SegmentProblem("definition", 'a JSON object {"all_of": [conditions]}')]
        )
    conditions = parser.conditions(raw["all_of"], "all_of", depth=0, minimum=0)
    if parser.problems:
        raise InvalidSegmentError(parser.problems)
    if parser.count > MAX_CONDITIONS:
        raise InvalidSegmentError(
            [SegmentProblem("all_of", f"at most {MAX_CONDITIONS} conditions in all")]
        )
    return SegmentDefinition(conditions)


def parse_definition_text(text: str) -> SegmentDefinition:
    """A definition from JSON text (numbers read exactly)."""
    try:
        raw = json.loads(text, parse_float=Decimal)
    except ValueError:
        raise InvalidSegmentError([SegmentProblem("definition", "not valid JSON")]) from None
    return parse_definition(raw)


class _Parser:
    def __init__(self) -> None:
        self.problems: list[SegmentProblem] = []
        self.count = 0

    def conditions(
        self, raw: object, path: str, *, depth: int, minimum: int
    ) -> tuple[Condition, ...]:
        if not isinstance(raw, list):
            self.problems.append(SegmentProblem(path, "a list of conditions"))
            return ()
        if len(raw) < minimum:
            self.problems.append(SegmentProblem(path, f"at least {minimum} conditions"))
        found: list[Condition] = []
        for index, item in enumerate(raw):
            where = f"{path}[{index}]"
            self.count += 1
            try:
                found.append(self.condition(item, where, depth))
            except _ProblemError as problem:
                self.problems.append(problem.problem)
        return tuple(found)

    def condition(self, raw: object, path: str, depth: int) -> Condition:
        if not isinstance(raw, Mapping) or len(raw) != 1:
            raise _ProblemError(path, f"an object with one key, one of: {', '.join(_KINDS)}")
        ((kind, body),) = raw.items()
        where = f"{path}.{kind}"
        if kind == "any_of":
            if depth + 1 > MAX_DEPTH:
                raise _ProblemError(where, f"any_of nests at most {MAX_DEPTH} deep")
            return AnyOfCondition(self.conditions(body, where, depth=depth + 1, minimum=2))
        reader = _KINDS.get(kind)
        if reader is None:
            raise _ProblemError(
                path, f"unknown condition {str(kind)[:40]!r}; one of: {', '.join(_KINDS)}"
            )
        return reader(body, where)


def _object(raw: object, path: str, keys: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise _ProblemError(path, f"an object with keys among: {', '.join(keys)}")
    extra = sorted(str(k) for k in raw if k not in keys)
    if extra:
        raise _ProblemError(f"{path}.{extra[0]}", f"unknown key; allowed: {', '.join(keys)}")
    return raw


def _texts(raw: object, path: str, limit: int) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise _ProblemError(path, "a non-empty list of strings")
    if len(raw) > MAX_ITEMS:
        raise _ProblemError(path, f"at most {MAX_ITEMS} items")
    values: list[str] = []
    for index, item in enumerate(raw):
        values.append(_text(item, f"{path}[{index}]", limit))
    return tuple(dict.fromkeys(values))


def _text(raw: object, path: str, limit: int) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _ProblemError(path, "a non-empty string")
    value = raw.strip()
    if len(value) > limit:
        raise _ProblemError(path, f"at most {limit} characters")
    return value


def _count(raw: object, path: str, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise _ProblemError(path, f"a whole number from {low} to {high}")
    return raw


def _one_of(raw: Mapping[str, Any], path: str, keys: Sequence[str]) -> str:
    given = [k for k in keys if k in raw]
    if len(given) != 1:
        raise _ProblemError(path, f"exactly one of: {', '.join(keys)}")
    return given[0]


def _tags(raw: object, path: str) -> Condition:
    body = _object(raw, path, ("all", "any", "none"))
    if not body:
        raise _ProblemError(path, "at least one of: all, any, none")
    lists = {k: _texts(v, f"{path}.{k}", TAG_LIMIT) for k, v in body.items()}
    return TagsCondition(lists.get("all", ()), lists.get("any", ()), lists.get("none", ()))


def _channel(raw: object, path: str) -> Condition:
    return ChannelCondition(_texts(raw, path, CHANNEL_LIMIT))


def _consent(raw: object, path: str) -> Condition:
    return ConsentCondition(_text(raw, path, TOPIC_LIMIT))


def _last_inbound(raw: object, path: str) -> Condition:
    body = _object(raw, path, ("within_days", "not_within_days"))
    key = _one_of(body, path, ("within_days", "not_within_days"))
    days = _count(body[key], f"{path}.{key}", 1, MAX_DAYS)
    return LastInboundCondition(days, within=key == "within_days")


def _last_order(raw: object, path: str) -> Condition:
    body = _object(raw, path, ("within_days", "before_days"))
    key = _one_of(body, path, ("within_days", "before_days"))
    days = _count(body[key], f"{path}.{key}", 1, MAX_DAYS)
    return LastOrderCondition(days, within=key == "within_days")


def _day(raw: object, path: str) -> date:
    if isinstance(raw, str) and len(raw) == 10:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            pass
        else:
            if FIRST_YEAR <= day.year <= LAST_YEAR:
                return day
            raise _ProblemError(path, f"a year from {FIRST_YEAR} to {LAST_YEAR}")
    raise _ProblemError(path, "a date YYYY-MM-DD")


def _first_seen(raw: object, path: str) -> Condition:
    body = _object(raw, path, ("from", "to"))
    if not body:
        raise _ProblemError(path, "at least one of: from, to")
    start = _day(body["from"], f"{path}.from") if "from" in body else None
    end = _day(body["to"], f"{path}.to") if "to" in body else None
    if start is not None and end is not None and end <= start:
        raise _ProblemError(f"{path}.to", "must be after from (the range is [from, to))")
    return FirstSeenCondition(start, end)


def _bounds(raw: object, path: str, read: Callable[[object, str], Any]) -> tuple[Any, Any]:
    body = _object(raw, path, ("min", "max"))
    if not body:
        raise _ProblemError(path, "at least one of: min, max")
    low = read(body["min"], f"{path}.min") if "min" in body else None
    high = read(body["max"], f"{path}.max") if "max" in body else None
    if low is not None and high is not None and high < low:
        raise _ProblemError(f"{path}.max", "must not be below min")
    return low, high


def _orders(raw: object, path: str) -> Condition:
    low, high = _bounds(raw, path, lambda v, p: _count(v, p, 0, MAX_ORDERS))
    return OrdersCondition(low, high)


def _money(raw: object, path: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise _ProblemError(path, 'a decimal string such as "199.00"')
    try:
        minor = to_minor(raw, DEFAULT_CURRENCY)
    except AmountError as error:
        raise _ProblemError(path, str(error)) from None
    return Decimal(format_minor(minor, DEFAULT_CURRENCY))


def _revenue(raw: object, path: str) -> Condition:
    low, high = _bounds(raw, path, _money)
    return RevenueCondition(low, high)


def _score_range(raw: object, path: str) -> ScoreRange:
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or any(isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= 5 for s in raw)
    ):
        raise _ProblemError(path, "[low, high] with scores from 1 to 5")
    if raw[1] < raw[0]:
        raise _ProblemError(path, "high must not be below low")
    return int(raw[0]), int(raw[1])


def _rfm(raw: object, path: str) -> Condition:
    body = _object(raw, path, ("r", "f", "m"))
    if not body:
        raise _ProblemError(path, "at least one of: r, f, m")
    ranges = {k: _score_range(v, f"{path}.{k}") for k, v in body.items()}
    return RfmCondition(ranges.get("r"), ranges.get("f"), ranges.get("m"))


def _source(raw: object, path: str) -> Condition:
    values = _texts(raw, path, 16)
    allowed = [s.value for s in ContactSource]
    for index, value in enumerate(values):
        if value not in allowed:
            raise _ProblemError(f"{path}[{index}]", f"one of: {', '.join(allowed)}")
    return SourceCondition(values)


def _attribute_value(raw: object, path: str, op: AttributeOp) -> AttributeValue:
    if op in PRESENCE_OPS:
        if raw is not None:
            raise _ProblemError(path, f"no value for {op.value}")
        return None
    if raw is None:
        raise _ProblemError(path, f"required for {op.value}")
    if isinstance(raw, float):
        raise _ProblemError(path, "numbers are read exactly; this one was not")
    if isinstance(raw, bool):
        if op in ORDERED_OPS:
            raise _ProblemError(path, f"{op.value} compares numbers or dates, not true/false")
        return raw
    if isinstance(raw, int | Decimal):
        number = Decimal(raw)
        if not number.is_finite() or abs(number) >= MAX_NUMBER:
            raise _ProblemError(path, "a finite number below 10^15 in size")
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > NUMBER_PLACES:
            raise _ProblemError(path, f"at most {NUMBER_PLACES} decimal places")
        return number
    if isinstance(raw, str):
        if op in ORDERED_OPS:
            _day(raw, path)
            return raw
        if len(raw) > MAX_TEXT:
            raise _ProblemError(path, f"at most {MAX_TEXT} characters")
        return raw
    raise _ProblemError(path, "a string, number or true/false")


def _attribute(raw: object, path: str) -> Condition:
    body = _object(raw, path, ("name", "op", "value"))
    name = body.get("name")
    if not isinstance(name, str) or not ATTRIBUTE_NAME.fullmatch(name):
        raise _ProblemError(f"{path}.name", "an attribute name: [a-z][a-z0-9_]*, at most 64")
    try:
        op = AttributeOp(str(body.get("op")))
    except ValueError:
        raise _ProblemError(
            f"{path}.op", f"one of: {', '.join(o.value for o in AttributeOp)}"
        ) from None
    return AttributeCondition(name, op, _attribute_value(body.get("value"), f"{path}.value", op))


_KINDS: dict[str, Callable[[object, str], Condition]] = {
    "tags": _tags,
    "channel": _channel,
    "consent": _consent,
    "last_inbound": _last_inbound,
    "first_seen": _first_seen,
    "orders": _orders,
    "revenue": _revenue,
    "last_order": _last_order,
    "rfm": _rfm,
    "source": _source,
    "attribute": _attribute,
}


# -- the canonical JSON ----------------------------------------------------------


def definition_json(definition: SegmentDefinition) -> dict[str, object]:
    """The JSON form of ``definition`` (attribute numbers stay :class:`Decimal`)."""
    return {"all_of": [_condition_json(c) for c in definition.conditions]}


def definition_text(definition: SegmentDefinition) -> str:
    """Canonical compact JSON text of ``definition``; numbers written exactly."""
    return _encode(definition_json(definition))


def _encode(value: object) -> str:
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}:{_encode(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return format(value, "f")
    return json.dumps(value, ensure_ascii=False)


def _bounds_json(low: object, high: object) -> dict[str, object]:
    body: dict[str, object] = {}
    if low is not None:
        body["min"] = low
    if high is not None:
        body["max"] = high
    return body


def _condition_json(condition: Condition) -> dict[str, object]:
    match condition:
        case TagsCondition(all=every, any=some, none=no):
            lists = {"all": every, "any": some, "none": no}
            return {"tags": {k: list(v) for k, v in lists.items() if v}}
        case ChannelCondition(channels=channels):
            return {"channel": list(channels)}
        case ConsentCondition(topic=topic):
            return {"consent": topic}
        case LastInboundCondition(days=days, within=within):
            return {"last_inbound": {"within_days" if within else "not_within_days": days}}
        case FirstSeenCondition(start=start, end=end):
            span = {"from": start, "to": end}
            return {"first_seen": {k: v.isoformat() for k, v in span.items() if v is not None}}
        case OrdersCondition(min=low, max=high):
            return {"orders": _bounds_json(low, high)}
        case RevenueCondition(min=low, max=high):
            return {"revenue": _bounds_json(_money_text(low), _money_text(high))}
        case LastOrderCondition(days=days, within=within):
            return {"last_order": {"within_days" if within else "before_days": days}}
        case RfmCondition(r=r, f=f, m=m):
            scores = {"r": r, "f": f, "m": m}
            return {"rfm": {k: list(v) for k, v in scores.items() if v is not None}}
        case SourceCondition(sources=sources):
            return {"source": list(sources)}
        case AttributeCondition(name=name, op=op, value=value):
            body: dict[str, object] = {"name": name, "op": op.value}
            if op not in PRESENCE_OPS:
                body["value"] = value
            return {"attribute": body}
        case AnyOfCondition(conditions=conditions):
            return {"any_of": [_condition_json(c) for c in conditions]}
    raise AssertionError(condition)  # pragma: no cover (the match is exhaustive)


def _money_text(value: Decimal | None) -> str | None:
    return (
        None if value is None else format_minor(to_minor(value, DEFAULT_CURRENCY), DEFAULT_CURRENCY)
    )
