"""The bundle's ``flows:`` and ``endpoints:`` sections (validated with pydantic).

Example (see README, "Flows")::

    endpoints:
      shop:
        url: https://shop.example.com/api/order-status
        method: GET                       # or POST (JSON body)
        headers: {Authorization: Bearer s3cret}   # stored sealed
        timeout_seconds: 3                # at most 10
    flows:
      - name: order-status
        trigger: {keywords: [查订单, 订单状态, where is my order]}
        start: ask_order
        states:
          ask_order:
            prompt: {zh: 请告诉我订单号。, en: What is your order number?}
            slot: {name: order, type: order_number}
            call: {endpoint: shop, then: tell, on_error: sorry}
          tell:
            answer: {zh: "订单 {order}：{response.status}", en: "Order {order}: {response.status}"}
          sorry:
            answer: 抱歉，暂时查不到订单 {order}，请稍后再试或回复“人工”。

Field-level mistakes (bad regexes, types, limits) are pydantic errors;
structural ones (unknown, missing or unreachable states, states that loop
without asking, calls to undefined endpoints, placeholders that name no slot)
come from :func:`flows_problems`, each with its path in the bundle
(``flows[0].states.tell.next``), which the apply reports with its line.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kindbot.dialogue.flow_specs import (
    CallSpec,
    FlowBook,
    FlowSpec,
    SlotSpec,
    StepSpec,
    Text,
    flow_problems,
)
from kindbot.dialogue.slots import SlotType
from kindbot.pipeline.decide.flow_calls import EndpointSpec

NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"
SLOT_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$"
RESERVED_SLOTS = frozenset({"flow", "tenant", "contact_id", "response"})
"""Names the endpoint request already uses (or templates reserve)."""
MAX_TIMEOUT_S = 10.0

Name = Annotated[str, Field(pattern=NAME)]
Phrase = Annotated[str, Field(min_length=1, max_length=100)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _compiles(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
    return pattern


class TextSpec(_Strict):
    """A text in both languages (``{zh: …, en: …}``); one alone serves both."""

    zh: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    en: Annotated[str, Field(min_length=1, max_length=1000)] | None = None

    @model_validator(mode="after")
    def _one_at_least(self) -> TextSpec:
        if self.zh is None and self.en is None:
            raise ValueError("give zh, en or both")
        return self


TextField = Annotated[str, Field(min_length=1, max_length=1000)] | TextSpec


def _text(value: TextField | None) -> Text | None:
    if value is None:
        return None
    if isinstance(value, str):
        return Text(value, value)
    zh = value.zh or value.en or ""
    return Text(zh, value.en or zh)


class SlotModel(_Strict):
    """``slot:`` — what the state's question expects."""

    name: Annotated[str, Field(pattern=SLOT_NAME)]
    type: Literal["phone", "date", "order_number", "choice", "text"]
    choices: list[Phrase] = Field(default_factory=list, max_length=20)
    pattern: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    retry_prompt: TextField | None = None
    max_retries: Annotated[int, Field(ge=0, le=5)] = 2

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        return _compiles(value)

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_SLOTS:
            reserved = ", ".join(sorted(RESERVED_SLOTS))
            raise ValueError(f"slot name {value!r} is reserved ({reserved})")
        return value

    @model_validator(mode="after")
    def _choices_for_choice(self) -> SlotModel:
        if (self.type == "choice") != bool(self.choices):
            raise ValueError("choices are given for, and only for, type: choice")
        if self.pattern is not None and self.type not in ("order_number", "text"):
            raise ValueError("pattern is for order_number slots")
        return self

    def to_spec(self) -> SlotSpec:
        return SlotSpec(
            name=self.name,
            type=SlotType(self.type),
            choices=tuple(self.choices),
            pattern=self.pattern,
            retry_prompt=_text(self.retry_prompt),
            max_retries=self.max_retries,
        )


class CallModel(_Strict):
    """``call:`` — ask an endpoint, then go on to ``then`` (or ``on_error`` when it fails)."""

    endpoint: Name
    then: Name
    on_error: Name | None = None


class StepModel(_Strict):
    """One state: ``prompt``, optional ``slot``, then one of ``next``/``call``/``answer``."""

    prompt: TextField | None = None
    slot: SlotModel | None = None
    next: Name | None = None
    call: CallModel | None = None
    answer: TextField | None = None

    def to_spec(self, name: str) -> StepSpec:
        call = self.call
        return StepSpec(
            name=name,
            prompt=_text(self.prompt),
            slot=self.slot.to_spec() if self.slot is not None else None,
            next=self.next,
            call=CallSpec(call.endpoint, call.then, call.on_error) if call is not None else None,
            answer=_text(self.answer),
        )


class TriggerModel(_Strict):
    """``trigger:`` — phrases contained in the message (after normalising) and/or a regex."""

    keywords: list[Phrase] = Field(default_factory=list, max_length=50)
    regex: Annotated[str, Field(min_length=1, max_length=300)] | None = None

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        return _compiles(value)

    @model_validator(mode="after")
    def _something(self) -> TriggerModel:
        if not self.keywords and self.regex is None:
            raise ValueError("give keywords, a regex or both")
        return self


class FlowModel(_Strict):
    """``flows[]`` — one multi-turn flow."""

    name: Name
    trigger: TriggerModel
    cancel_words: list[Phrase] | None = None
    timeout_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    start: Name
    states: Annotated[dict[Name, StepModel], Field(min_length=1, max_length=50)]

    def to_spec(self) -> FlowSpec:
        spec = FlowSpec(
            name=self.name,
            keywords=tuple(self.trigger.keywords),
            regex=self.trigger.regex,
            start=self.start,
            states=tuple(step.to_spec(name) for name, step in self.states.items()),
            timeout_minutes=self.timeout_minutes,
        )
        if self.cancel_words is not None:
            spec = replace(spec, cancel_words=tuple(self.cancel_words))
        return spec


class EndpointModel(_Strict):
    """``endpoints.<name>`` — a tenant's HTTP endpoint that flows may call."""

    url: Annotated[str, Field(pattern=r"^https?://[^\s/]+", max_length=2000)]
    method: Literal["GET", "POST"] = "GET"
    headers: dict[
        Annotated[str, Field(pattern=HEADER_NAME)], Annotated[str, Field(max_length=2000)]
    ] = Field(default_factory=dict, max_length=20)
    timeout_seconds: Annotated[float, Field(gt=0, le=MAX_TIMEOUT_S)] = 3.0

    def to_spec(self, name: str) -> EndpointSpec:
        return EndpointSpec(
            name=name,
            url=self.url,
            method=self.method,
            headers=tuple(sorted(self.headers.items())),
            timeout_seconds=self.timeout_seconds,
        )


Location = tuple[int | str, ...]


def flows_problems(
    flows: list[FlowModel], endpoints: dict[str, EndpointModel]
) -> list[tuple[Location, str]]:
    """Every structural problem of the bundle's flows, each at its path in the bundle
    (``("flows", 0, "states", "ask", "next")``): duplicate names, unknown or
    unreachable states, silent loops, unknown endpoints and placeholders."""
    problems: list[tuple[Location, str]] = []
    seen: set[str] = set()
    for i, flow in enumerate(flows):
        if flow.name in seen:
            problems.append((("flows", i, "name"), f"flow {flow.name!r} appears twice"))
        seen.add(flow.name)
        for field, message in flow_problems(flow.to_spec(), frozenset(endpoints)):
            problems.append((("flows", i, *field.split(".")), message))
    return problems


def flow_book(flows: list[FlowModel]) -> FlowBook:
    """The flows as the dialogue reads them."""
    return FlowBook(tuple(flow.to_spec() for flow in flows))


def endpoint_specs(endpoints: dict[str, EndpointModel]) -> tuple[EndpointSpec, ...]:
    """The endpoints as the pipeline calls them, by name."""
    return tuple(model.to_spec(name) for name, model in sorted(endpoints.items()))
