"""What a multi-turn flow is: its states, questions, calls and answers (pure data).

A bundle's ``flows:`` become :class:`FlowSpec` values (see
:mod:`kindbot.bundles.flow_schema`); :func:`flow_problems` finds every
structural mistake (unknown or unreachable states, calls to undefined
endpoints, placeholders naming no slot) so a bundle with one is refused at
apply time. Texts are templates: ``{order}`` is the slot ``order``,
``{response.status}`` a field of the last endpoint response, ``{{``/``}}``
literal braces. Filling one (:func:`render`) only looks names up in a
mapping of strings — nothing is evaluated, no attribute is read — and a
missing name becomes the given fallback text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from kindbot.dialogue.slots import SlotType

__all__ = [
    "RESPONSE_PREFIX",
    "CallSpec",
    "FlowBook",
    "FlowSpec",
    "SlotSpec",
    "StepSpec",
    "Text",
    "flow_problems",
    "placeholders",
    "render",
]

RESPONSE_PREFIX = "response."
"""Slots holding an endpoint response's fields are named ``response.<path>``."""

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_.]{0,100})\}")


@dataclass(frozen=True, slots=True)
class Text:
    """A text in Chinese and English (the same template when only one was given)."""

    zh: str
    en: str

    def pick(self, language: str) -> str:
        """The text in ``language`` (``zh`` or ``en``)."""
        return self.zh if language == "zh" else self.en


@dataclass(frozen=True, slots=True)
class SlotSpec:
    """A question's expected answer; after ``max_retries`` invalid answers the flow ends."""

    name: str
    type: SlotType
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    retry_prompt: Text | None = None
    max_retries: int = 2


@dataclass(frozen=True, slots=True)
class CallSpec:
    """Call ``endpoint``; go to ``then`` on success, ``on_error`` (or the apology) otherwise."""

    endpoint: str
    then: str
    on_error: str | None = None


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One state: say ``prompt``, wait for ``slot`` if any, then exactly one of
    ``next`` (another state), ``call`` (an endpoint) or ``answer`` (the flow ends)."""

    name: str
    prompt: Text | None = None
    slot: SlotSpec | None = None
    next: str | None = None
    call: CallSpec | None = None
    answer: Text | None = None


@dataclass(frozen=True, slots=True)
class FlowSpec:
    """A flow: what starts it, what cancels it, how long it waits, and its states."""

    name: str
    keywords: tuple[str, ...]
    start: str
    states: tuple[StepSpec, ...]
    regex: str | None = None
    cancel_words: tuple[str, ...] = ("取消", "算了", "不用了", "退出", "cancel", "quit")
    timeout_minutes: int = 30

    def step(self, name: str) -> StepSpec | None:
        """The state called ``name``, if the flow has one."""
        return next((step for step in self.states if step.name == name), None)


@dataclass(frozen=True, slots=True)
class FlowBook:
    """Every flow of one tenant, in bundle order (the first whose trigger matches starts)."""

    flows: tuple[FlowSpec, ...] = ()

    def flow(self, name: str) -> FlowSpec | None:
        """The flow called ``name``, if the tenant still has it."""
        return next((flow for flow in self.flows if flow.name == name), None)


def render(template: str, values: Mapping[str, str], missing: str) -> str:
    """``template`` with each ``{name}`` replaced by ``values[name]`` (else ``missing``)."""

    def fill(found: re.Match[str]) -> str:
        name = found.group(1)
        if name is None:
            return found.group(0)[0]
        return values.get(name, missing)

    return _PLACEHOLDER.sub(fill, template)


def placeholders(template: str) -> tuple[str, ...]:
    """The names ``template`` refers to, in order."""
    return tuple(m.group(1) for m in _PLACEHOLDER.finditer(template) if m.group(1) is not None)


def flow_problems(flow: FlowSpec, endpoints: frozenset[str] | None = None) -> list[tuple[str, str]]:
    """Every structural problem of ``flow`` as (field path inside the flow, message).

    ``endpoints``: the names calls may use (None: not checked here).
    """
    problems: list[tuple[str, str]] = []
    names = {step.name for step in flow.states}
    if flow.start not in names:
        problems.append(("start", f"start state {flow.start!r} is not one of the states"))
    for step in flow.states:
        problems += [(f"states.{step.name}.{f}", m) for f, m in _step_problems(step, names)]
        if step.call is not None and endpoints is not None and step.call.endpoint not in endpoints:
            known = ", ".join(sorted(endpoints)) or "none defined"
            problems.append(
                (
                    f"states.{step.name}.call.endpoint",
                    f"endpoint {step.call.endpoint!r} is not under endpoints: ({known})",
                )
            )
    if problems:
        return problems
    reachable = _reachable(flow)
    for step in flow.states:
        if step.name not in reachable:
            problems.append((f"states.{step.name}", f"state {step.name!r} is never reached"))
    problems += _silent_loops(flow)
    problems += _unknown_placeholders(flow)
    return problems


def _step_problems(step: StepSpec, names: set[str]) -> list[tuple[str, str]]:
    endings = [step.next is not None, step.call is not None, step.answer is not None]
    if sum(endings) != 1:
        return [("next", "give exactly one of next, call or answer")]
    problems = []
    targets = [("next", step.next)]
    if step.call is not None:
        targets += [("call.then", step.call.then), ("call.on_error", step.call.on_error)]
    for field, target in targets:
        if target is not None and target not in names:
            problems.append((field, f"unknown state {target!r}"))
    if step.slot is not None and step.prompt is None:
        problems.append(("prompt", "a state with a slot needs a prompt (the question)"))
    return problems


def _successors(step: StepSpec) -> tuple[str, ...]:
    if step.next is not None:
        return (step.next,)
    if step.call is not None:
        return tuple(s for s in (step.call.then, step.call.on_error) if s is not None)
    return ()


def _reachable(flow: FlowSpec) -> set[str]:
    seen: set[str] = set()
    todo = [flow.start]
    while todo:
        name = todo.pop()
        step = flow.step(name)
        if name in seen or step is None:
            continue
        seen.add(name)
        todo.extend(_successors(step))
    return seen


def _silent_loops(flow: FlowSpec) -> list[tuple[str, str]]:
    """States that come round again without waiting for the customer (an endless loop)."""
    problems = []
    for step in flow.states:
        if step.slot is None and _returns_silently(flow, step.name, step.name, frozenset()):
            problems.append(
                (f"states.{step.name}", "this state comes round again without asking anything")
            )
    return problems


def _returns_silently(flow: FlowSpec, origin: str, name: str, seen: frozenset[str]) -> bool:
    step = flow.step(name)
    if step is None or (step.slot is not None and name != origin):
        return False
    for target in _successors(step):
        if target == origin:
            return True
        if target not in seen and _returns_silently(flow, origin, target, seen | {target}):
            return True
    return False


def _unknown_placeholders(flow: FlowSpec) -> list[tuple[str, str]]:
    slots = {step.slot.name for step in flow.states if step.slot is not None}
    problems = []
    for step in flow.states:
        texts = [("prompt", step.prompt), ("answer", step.answer)]
        if step.slot is not None:
            texts.append(("slot.retry_prompt", step.slot.retry_prompt))
        for field, text in texts:
            if text is None:
                continue
            # One template given for both languages is one text: report it once.
            wordings = (
                [("", text.zh)] if text.zh == text.en else [(".zh", text.zh), (".en", text.en)]
            )
            for language, wording in wordings:
                for name in dict.fromkeys(placeholders(wording)):  # each unknown name once
                    if name not in slots and not name.startswith(RESPONSE_PREFIX):
                        problems.append(
                            (
                                f"states.{step.name}.{field}{language}",
                                f"{{{name}}} is neither a slot of this flow nor response.<field>",
                            )
                        )
    return problems
