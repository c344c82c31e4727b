"""Flow structure checks, templates and the stored JSON form (pure)."""

from __future__ import annotations

from dataclasses import replace

from kindbot.dialogue.flow_codec import flows_from_json, flows_to_json
from kindbot.dialogue.flow_specs import (
    CallSpec,
    FlowBook,
    FlowSpec,
    SlotSpec,
    StepSpec,
    Text,
    flow_problems,
    placeholders,
    render,
)
from kindbot.dialogue.slots import SlotType

ASK = StepSpec("ask", Text("订单号？", "Order?"), SlotSpec("order", SlotType.ORDER_NUMBER), "call")
CALL = StepSpec("call", call=CallSpec("shop", "tell", "sorry"))
TELL = StepSpec("tell", answer=Text("{order}: {response.status}", "{order}"))
SORRY = StepSpec("sorry", answer=Text("抱歉", "Sorry"))
GOOD = FlowSpec("order", ("查订单",), "ask", (ASK, CALL, TELL, SORRY))


def test_a_good_flow_has_no_problems() -> None:
    assert flow_problems(GOOD, frozenset({"shop"})) == []


def test_each_structural_mistake_names_its_field() -> None:
    assert flow_problems(replace(GOOD, start="nope")) == [
        ("start", "start state 'nope' is not one of the states")
    ]
    unknown = replace(GOOD, states=(replace(ASK, next="nowhere"), CALL, TELL, SORRY))
    assert ("states.ask.next", "unknown state 'nowhere'") in flow_problems(unknown)
    assert flow_problems(GOOD, frozenset({"crm"})) == [
        ("states.call.call.endpoint", "endpoint 'shop' is not under endpoints: (crm)")
    ]
    two_endings = replace(GOOD, states=(replace(ASK, answer=Text("x", "x")), CALL, TELL, SORRY))
    assert flow_problems(two_endings)[0] == (
        "states.ask.next",
        "give exactly one of next, call or answer",
    )
    no_question = replace(GOOD, states=(replace(ASK, prompt=None), CALL, TELL, SORRY))
    assert ("states.ask.prompt", "a state with a slot needs a prompt (the question)") in (
        flow_problems(no_question)
    )


def test_unreachable_states_and_silent_loops_are_refused() -> None:
    orphan = replace(GOOD, states=(*GOOD.states, StepSpec("lost", answer=Text("x", "x"))))
    assert flow_problems(orphan) == [("states.lost", "state 'lost' is never reached")]
    a = StepSpec("a", Text("a", "a"), next="b")
    b = StepSpec("b", call=CallSpec("shop", "a"))
    looping = FlowSpec("loop", ("x",), "a", (a, b))
    assert [field for field, _ in flow_problems(looping)] == ["states.a", "states.b"]
    asking_loop = FlowSpec("ok", ("x",), "q", (StepSpec("q", Text("?", "?"), ASK.slot, "q"),))
    assert flow_problems(asking_loop) == []


def test_placeholders_must_name_slots_or_response_fields() -> None:
    typo = replace(GOOD, states=(ASK, CALL, replace(TELL, answer=Text("{oder}", "x")), SORRY))
    assert flow_problems(typo) == [
        ("states.tell.answer.zh", "{oder} is neither a slot of this flow nor response.<field>")
    ]


def test_render_fills_names_only_and_never_evaluates() -> None:
    values = {"order": "A1", "response.status": "已发货"}
    assert render("{order}：{response.status}", values, "?") == "A1：已发货"
    assert render("{missing} {{literal}}", values, "（暂无）") == "（暂无） {literal}"
    assert render("{order.__class__} {0} {order!r} {}", values, "?") == "? {0} {order!r} {}"
    assert placeholders("{a} {{b}} {c.d}") == ("a", "c.d")


def test_json_round_trip_is_exact_and_deterministic() -> None:
    book = FlowBook((GOOD, replace(GOOD, name="second", regex="x+", timeout_minutes=5)))
    text = flows_to_json(book)
    assert flows_from_json(text) == book
    assert flows_to_json(flows_from_json(text)) == text
