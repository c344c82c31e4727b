"""Flows to and from JSON, the form they are stored in (pure).

:func:`flows_to_json` is deterministic (same flows, same text), so storage can
tell an unchanged bundle by comparing texts. :func:`flows_from_json` reads
only what :func:`flows_to_json` wrote; anything else is a ``ValueError``.
"""

from __future__ import annotations

import json
from typing import Any

from kindbot.dialogue.flow_specs import CallSpec, FlowBook, FlowSpec, SlotSpec, StepSpec, Text
from kindbot.dialogue.slots import SlotType

__all__ = ["flows_from_json", "flows_to_json"]

FORMAT = 1


def flows_to_json(book: FlowBook) -> str:
    """The flows as canonical JSON."""
    document = {"format": FORMAT, "flows": [_flow(flow) for flow in book.flows]}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def flows_from_json(text: str) -> FlowBook:
    """The flows :func:`flows_to_json` stored; ``ValueError`` for anything else."""
    try:
        document = json.loads(text)
        if document.get("format") != FORMAT:
            raise ValueError(f"unknown flows format {document.get('format')!r}")
        return FlowBook(tuple(_read_flow(item) for item in document["flows"]))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed flows JSON: {exc}") from exc


def _text(text: Text | None) -> dict[str, str] | None:
    return None if text is None else {"zh": text.zh, "en": text.en}


def _read_text(data: Any) -> Text | None:
    return None if data is None else Text(str(data["zh"]), str(data["en"]))


def _flow(flow: FlowSpec) -> dict[str, Any]:
    return {
        "name": flow.name,
        "keywords": list(flow.keywords),
        "regex": flow.regex,
        "cancel_words": list(flow.cancel_words),
        "timeout_minutes": flow.timeout_minutes,
        "start": flow.start,
        "states": [_step(step) for step in flow.states],
    }


def _read_flow(data: Any) -> FlowSpec:
    return FlowSpec(
        name=str(data["name"]),
        keywords=tuple(str(word) for word in data["keywords"]),
        regex=data["regex"],
        cancel_words=tuple(str(word) for word in data["cancel_words"]),
        timeout_minutes=int(data["timeout_minutes"]),
        start=str(data["start"]),
        states=tuple(_read_step(item) for item in data["states"]),
    )


def _step(step: StepSpec) -> dict[str, Any]:
    slot = step.slot
    call = step.call
    return {
        "name": step.name,
        "prompt": _text(step.prompt),
        "slot": None
        if slot is None
        else {
            "name": slot.name,
            "type": slot.type.value,
            "choices": list(slot.choices),
            "pattern": slot.pattern,
            "retry_prompt": _text(slot.retry_prompt),
            "max_retries": slot.max_retries,
        },
        "next": step.next,
        "call": None
        if call is None
        else {"endpoint": call.endpoint, "then": call.then, "on_error": call.on_error},
        "answer": _text(step.answer),
    }


def _read_step(data: Any) -> StepSpec:
    slot, call = data["slot"], data["call"]
    return StepSpec(
        name=str(data["name"]),
        prompt=_read_text(data["prompt"]),
        slot=None
        if slot is None
        else SlotSpec(
            name=str(slot["name"]),
            type=SlotType(slot["type"]),
            choices=tuple(str(c) for c in slot["choices"]),
            pattern=slot["pattern"],
            retry_prompt=_read_text(slot["retry_prompt"]),
            max_retries=int(slot["max_retries"]),
        ),
        next=data["next"],
        call=None
        if call is None
        else CallSpec(str(call["endpoint"]), str(call["then"]), call["on_error"]),
        answer=_read_text(data["answer"]),
    )
