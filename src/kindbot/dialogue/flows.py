"""Multi-turn flows: one customer message in, the flow's next state out (pure).

:func:`advance` takes the tenant's flows, the conversation's
:class:`FlowState` (None when it is in no flow), the message and the time,
and returns a :class:`FlowStep`: the texts to say, the next state (None: the
flow is over or never began) and, when a state calls an endpoint, the
:class:`EndpointCall` to make. The caller makes the call (I/O stays at the
edge) and hands its :class:`CallResult` to :func:`resume`, which continues
from the call's ``then`` or ``on_error`` state.

Order inside :func:`advance`: a state older than the flow's timeout is
dropped (the message then starts afresh); in a flow, a request for a person
ends the flow and leaves the message to the dialogue (it hands off); a
cancel word ends it with a confirmation; anything else answers the waiting
question. Outside a flow, the first flow whose trigger matches starts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from kindbot.core.lang import pick
from kindbot.core.records.flows import FlowState, Slots
from kindbot.dialogue.flow_specs import RESPONSE_PREFIX, FlowBook, FlowSpec, StepSpec, render
from kindbot.dialogue.normalize import normalize_text
from kindbot.dialogue.responder import wants_person
from kindbot.dialogue.slots import valid_value

__all__ = [
    "CallResult",
    "EndpointCall",
    "FlowOutcome",
    "FlowState",
    "FlowStep",
    "advance",
    "resume",
    "triggered_flow",
]

CANCELLED = ("好的，已取消。还有什么可以帮您？", "OK, cancelled. Anything else I can help with?")
GAVE_UP = (
    "抱歉，我还是没能识别您的回答，这次先到这里。如需帮助，请回复“人工”联系真人客服。",
    "Sorry, I still could not read that answer, so I have stopped here. "
    "Reply 'human' to reach a person.",
)
CALL_FAILED = (
    "抱歉，暂时查询不到，请稍后再试，或回复“人工”联系真人客服。",
    "Sorry, I cannot look that up right now. Please try again later, or reply 'human'.",
)
RETRY = {
    "phone": ("请输入 11 位手机号码，例如 13800138000。", "Please enter an 11-digit mobile."),
    "date": ("请告诉我日期，例如 12月1日 或 明天。", "Please give a date, e.g. 2026-12-01."),
    "order_number": ("请输入订单号（字母和数字）。", "Please enter the order number."),
    "choice": ("请从以下选项中选择：", "Please choose one of:"),
    "text": ("请用文字回复。", "Please reply in words."),
}
MISSING = ("（暂无）", "(not available)")
MAX_HOPS = 20
"""At most this many states are entered for one message (validation forbids loops anyway)."""


class FlowOutcome(StrEnum):
    """What a step did, for the caller's records and tests."""

    NONE = "none"
    STARTED = "started"
    WAITING = "waiting"
    CALLING = "calling"
    RETRY = "retry"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    GAVE_UP = "gave_up"
    FAILED = "failed"
    HANDOFF = "handoff"


@dataclass(frozen=True, slots=True)
class EndpointCall:
    """A request to a tenant's endpoint: the flow's collected ``slots``."""

    endpoint: str
    flow: str
    slots: Slots


@dataclass(frozen=True, slots=True)
class CallResult:
    """An endpoint's answer: ``ok`` with its JSON fields flattened (``order.status``), or not."""

    ok: bool
    fields: Slots = ()


@dataclass(frozen=True, slots=True)
class FlowStep:
    """The outcome of one message (or one call result) for the flow.

    ``handled``: the flow answered the message, so nothing else should;
    False leaves it to handlers and the knowledge base (after a timeout, a
    handoff request, or when no flow is involved). ``state`` is what to store
    (None: nothing; delete any stored state). ``call`` is set when the state
    reached calls an endpoint: make it and :func:`resume` with its result.
    """

    replies: tuple[str, ...]
    state: FlowState | None
    handled: bool
    outcome: FlowOutcome
    call: EndpointCall | None = None


def _canonical(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip(" \t\r\n.!?。！？")


def triggered_flow(book: FlowBook, text: str) -> FlowSpec | None:
    """The first flow whose keywords (contained, after normalising) or regex match ``text``."""
    normal = normalize_text(text)
    for flow in book.flows:
        if any(normalize_text(word) in normal for word in flow.keywords):
            return flow
        if flow.regex is not None and _searches(flow.regex, text):
            return flow
    return None


def _searches(pattern: str, text: str) -> bool:
    return re.search(pattern, text[:500]) is not None


def advance(
    book: FlowBook,
    state: FlowState | None,
    text: str,
    now: datetime,
    *,
    zone: tzinfo,
    prefer_chinese: bool,
) -> FlowStep:
    """The flow's move on the customer's ``text`` (see the module docstring for the order)."""
    expired = False
    if state is not None:
        flow = book.flow(state.flow)
        step = flow.step(state.state) if flow is not None else None
        if flow is None or step is None or step.slot is None or _timed_out(flow, state, now):
            expired, state = True, None
        elif wants_person(text):
            return FlowStep((), None, handled=False, outcome=FlowOutcome.HANDOFF)
        elif _canonical(text) in {_canonical(word) for word in flow.cancel_words}:
            return FlowStep((_say(CANCELLED, state),), None, True, FlowOutcome.CANCELLED)
        else:
            return _answer(flow, step, state, text, now, zone)
    flow = triggered_flow(book, text)
    if flow is None:
        return FlowStep((), None, False, FlowOutcome.EXPIRED if expired else FlowOutcome.NONE)
    language = pick(text, "zh", "en", default_zh=prefer_chinese)
    fresh = FlowState(flow.name, flow.start, (), 0, language, now)
    started = _enter(flow, fresh, flow.start, (), 0)
    if started.outcome is FlowOutcome.WAITING:
        return replace(started, outcome=FlowOutcome.STARTED)
    return started


def resume(book: FlowBook, state: FlowState, result: CallResult) -> FlowStep:
    """Continue after the call ``state``'s step asked for, with the call's ``result``."""
    flow = book.flow(state.flow)
    step = flow.step(state.state) if flow is not None else None
    if flow is None or step is None or step.call is None:
        return FlowStep((_say(CALL_FAILED, state),), None, True, FlowOutcome.FAILED)
    if result.ok:
        kept = tuple((k, v) for k, v in state.slots if not k.startswith(RESPONSE_PREFIX))
        fields = tuple((RESPONSE_PREFIX + k, v) for k, v in result.fields)
        answered = replace(state, slots=tuple(sorted(kept + fields)))
        return _enter(flow, answered, step.call.then, (), 0)
    if step.call.on_error is not None:
        return _enter(flow, state, step.call.on_error, (), 0)
    return FlowStep((_say(CALL_FAILED, state),), None, True, FlowOutcome.FAILED)


def _timed_out(flow: FlowSpec, state: FlowState, now: datetime) -> bool:
    return now - state.updated_at > timedelta(minutes=flow.timeout_minutes)


def _answer(
    flow: FlowSpec, step: StepSpec, state: FlowState, text: str, now: datetime, zone: tzinfo
) -> FlowStep:
    slot = step.slot
    assert slot is not None, "only states with a slot are stored"
    today = now.astimezone(zone).date()
    value = valid_value(slot.type, text, today=today, choices=slot.choices, pattern=slot.pattern)
    if value is None:
        if state.retries >= slot.max_retries:
            return FlowStep((_say(GAVE_UP, state),), None, True, FlowOutcome.GAVE_UP)
        retried = replace(state, retries=state.retries + 1, updated_at=now)
        return FlowStep((_retry_text(step, retried),), retried, True, FlowOutcome.RETRY)
    slots = dict(state.slots)
    slots[slot.name] = value
    moved = replace(state, slots=tuple(sorted(slots.items())), retries=0, updated_at=now)
    return _leave(flow, step, moved, (), 0)


def _enter(
    flow: FlowSpec, state: FlowState, name: str, said: tuple[str, ...], hops: int
) -> FlowStep:
    """Enter state ``name``: say its prompt, then wait for its slot or move on."""
    step = flow.step(name)
    if step is None or hops >= MAX_HOPS:
        return FlowStep((*said, _say(CALL_FAILED, state)), None, True, FlowOutcome.FAILED)
    state = replace(state, state=name, retries=0)
    if step.prompt is not None:
        said = (*said, _fill(step.prompt.pick(state.language), state))
    if step.slot is not None:
        return FlowStep(_joined(said), state, True, FlowOutcome.WAITING)
    return _leave(flow, step, state, said, hops)


def _leave(
    flow: FlowSpec, step: StepSpec, state: FlowState, said: tuple[str, ...], hops: int
) -> FlowStep:
    """Follow ``step``'s ending: the next state, an endpoint call, or the final answer."""
    if step.next is not None:
        return _enter(flow, state, step.next, said, hops + 1)
    if step.call is not None:
        state = replace(state, state=step.name)
        asked = tuple((k, v) for k, v in state.slots if not k.startswith(RESPONSE_PREFIX))
        call = EndpointCall(step.call.endpoint, flow.name, asked)
        return FlowStep(_joined(said), state, True, FlowOutcome.CALLING, call)
    answer = step.answer.pick(state.language) if step.answer is not None else ""
    return FlowStep(_joined((*said, _fill(answer, state))), None, True, FlowOutcome.COMPLETED)


def _joined(said: tuple[str, ...]) -> tuple[str, ...]:
    """One reply for the whole step (the guard allows few messages per inbound)."""
    texts = [text for text in said if text.strip()]
    return ("\n".join(texts),) if texts else ()


def _fill(template: str, state: FlowState) -> str:
    return render(template, dict(state.slots), _say(MISSING, state))


def _say(texts: tuple[str, str], state: FlowState) -> str:
    return texts[0] if state.language == "zh" else texts[1]


def _retry_text(step: StepSpec, state: FlowState) -> str:
    slot = step.slot
    assert slot is not None
    if slot.retry_prompt is not None:
        return _fill(slot.retry_prompt.pick(state.language), state)
    text = _say(RETRY[slot.type.value], state)
    if slot.choices:
        text += " " + " ".join(f"{i}. {c}" for i, c in enumerate(slot.choices, 1))
    return text
