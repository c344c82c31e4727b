"""Custom attribute values: checked against the tenant's declarations, all or nothing.

Values arrive as JSON (the API: a string, number, boolean or ``null``) or as
text (the CLI's ``name=value``, the list's ``attr=name:op:value``). Either way
a value must fit its declared type exactly; a number keeps at most
:data:`NUMBER_PLACES` decimal places and is a :class:`~decimal.Decimal`, never a
float. ``null`` (an empty text value) clears the attribute.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from kindbot.core.errors import BadRequestError, KindbotError
from kindbot.core.records.directory import (
    AttributeChange,
    AttributeDefinition,
    AttributeType,
    AttributeValue,
)

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
MAX_NAME = 64
MAX_LABEL = 100
MAX_TEXT = 500
MAX_ATTRIBUTES = 100
NUMBER_PLACES = 6
MAX_NUMBER = Decimal(10) ** 12
"""Numbers must be strictly between ``-MAX_NUMBER`` and ``MAX_NUMBER``."""

_NAME = re.compile(NAME_PATTERN)
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


@dataclass(frozen=True, slots=True)
class AttributeProblem:
    """Why one attribute's value was refused (``field`` is the attribute's name)."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class InvalidAttributesError(KindbotError):
    """Some values are undeclared or of the wrong type; nothing was applied."""

    code = "invalid_attributes"
    http_status = 422

    def __init__(self, problems: Sequence[AttributeProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("nothing was applied: " + "; ".join(str(p) for p in self.problems))

    def details(self) -> dict[str, object]:
        """``problems``: ``[{"field", "reason"}, …]``."""
        return {"problems": [{"field": p.field, "reason": p.reason} for p in self.problems]}


def is_name(name: str) -> bool:
    """True for a valid attribute name (``[a-z][a-z0-9_]*``, at most :data:`MAX_NAME`)."""
    return len(name) <= MAX_NAME and _NAME.fullmatch(name) is not None


def _number(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("expected a finite number")
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int), "finite"
    if exponent < -NUMBER_PLACES:
        raise ValueError(f"at most {NUMBER_PLACES} decimal places")
    if abs(value) >= MAX_NUMBER:
        raise ValueError(f"must be less than {MAX_NUMBER:,} in size")
    return value


def _number_text(text: str) -> Decimal:
    if not _DECIMAL.fullmatch(text.strip()):
        raise ValueError(f"expected a number, got {text!r}")
    try:
        return _number(Decimal(text.strip()))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only decimals
        raise ValueError(f"expected a number, got {text!r}") from exc


def _date_text(text: str) -> date:
    if not _DATE.fullmatch(text.strip()):
        raise ValueError(f"expected a date YYYY-MM-DD, got {text!r}")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"no such date {text!r}") from exc


def _text(text: str) -> str:
    if not text:
        raise ValueError("empty text: clear the attribute with null instead")
    if len(text) > MAX_TEXT:
        raise ValueError(f"at most {MAX_TEXT} characters")
    return text


def json_value(kind: AttributeType, raw: object) -> AttributeValue:
    """A JSON value as ``kind``; :class:`ValueError` with the reason when it does not fit.

    Numbers may be JSON numbers (best parsed as :class:`~decimal.Decimal`) or decimal
    strings (``"12.50"``, exact beyond a float's precision); booleans must be
    ``true``/``false``; dates ``"YYYY-MM-DD"``.
    """
    if kind is AttributeType.TEXT:
        if not isinstance(raw, str):
            raise ValueError(f"expected text, got {_json_kind(raw)}")
        return _text(raw)
    if kind is AttributeType.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
            raise ValueError(f"expected a number, got {_json_kind(raw)}")
        if isinstance(raw, str):
            return _number_text(raw)
        return _number(Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw))
    if kind is AttributeType.DATE:
        if not isinstance(raw, str):
            raise ValueError(f"expected a date YYYY-MM-DD, got {_json_kind(raw)}")
        return _date_text(raw)
    if not isinstance(raw, bool):
        raise ValueError(f"expected true or false, got {_json_kind(raw)}")
    return raw


def text_value(kind: AttributeType, text: str) -> AttributeValue:
    """A value typed as text (the CLI, list filters) as ``kind``; :class:`ValueError`
    with the reason when it does not fit. Booleans: true/false, yes/no, 1/0."""
    if kind is AttributeType.TEXT:
        return _text(text)
    if kind is AttributeType.NUMBER:
        return _number_text(text)
    if kind is AttributeType.DATE:
        return _date_text(text)
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _json_kind(raw: object) -> str:
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, int | float | Decimal):
        return "a number"
    if isinstance(raw, str):
        return f"text {raw!r}" if len(raw) <= 40 else "text"
    if isinstance(raw, list):
        return "a list"
    if isinstance(raw, dict):
        return "an object"
    return type(raw).__name__


def check_changes(
    definitions: Sequence[AttributeDefinition],
    raw: Mapping[str, object],
    *,
    from_text: bool = False,
) -> tuple[AttributeChange, ...]:
    """The changes ``raw`` (name → value; None clears) asks for, every one checked.

    ``from_text``: values are strings typed by a person (an empty one clears).
    Raises :class:`InvalidAttributesError` naming every undeclared name and
    every value that does not fit its type; nothing is returned half-checked.
    """
    if not raw:
        raise BadRequestError(
            "attributes: give at least one name and value", code="invalid_attributes"
        )
    declared = {d.name: d for d in definitions}
    changes: list[AttributeChange] = []
    problems: list[AttributeProblem] = []
    for name, value in raw.items():
        definition = declared.get(name)
        if definition is None:
            known = ", ".join(sorted(declared)) or "none"
            problems.append(AttributeProblem(name, f"not a declared attribute (declared: {known})"))
            continue
        if value is None or (from_text and value == ""):
            changes.append(AttributeChange(name, definition.type, None))
            continue
        try:
            if from_text:
                assert isinstance(value, str), "text input is strings"
                typed = text_value(definition.type, value)
            else:
                typed = json_value(definition.type, value)
        except ValueError as exc:
            problems.append(AttributeProblem(name, f"{definition.type.value}: {exc}"))
            continue
        changes.append(AttributeChange(name, definition.type, typed))
    if problems:
        raise InvalidAttributesError(problems)
    return tuple(changes)


def parse_assignments(arguments: Sequence[str]) -> dict[str, str]:
    """``name=value`` arguments as a mapping (``name=`` clears the attribute).

    Raises :class:`InvalidAttributesError` naming each argument without ``=`` or
    given twice.
    """
    found: dict[str, str] = {}
    problems: list[AttributeProblem] = []
    for argument in arguments:
        name, equals, value = argument.partition("=")
        name = name.strip()
        if not equals or not name:
            problems.append(AttributeProblem(argument, "expected name=value"))
        elif name in found:
            problems.append(AttributeProblem(name, "given twice"))
        else:
            found[name] = value
    if problems:
        raise InvalidAttributesError(problems)
    return found


def plain_value(value: AttributeValue) -> str | bool:
    """A value as JSON shows it: numbers as decimal strings (exact, no exponent, no
    trailing zeros), dates ISO, text and booleans as they are."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return value.isoformat()
