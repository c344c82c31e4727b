"""The flow diagram's pure parts: transitions, layers, the layout; the audit reason shown."""

from __future__ import annotations

import pytest

from kindbot.dialogue.flow_specs import CallSpec, FlowSpec, SlotSpec, StepSpec, Text
from kindbot.dialogue.slots import SlotType
from kindbot.web.dashboard.compliance import reason_of
from kindbot.web.dashboard.flow_diagram import (
    BOX_HEIGHT,
    BOX_WIDTH,
    END,
    Transition,
    TransitionKind,
    layers,
    layout,
    transitions,
)
from kindbot.web.dashboard.i18n import Lang

ASK = Text("问", "ask")


def ask(name: str, slot: str, *, next: str | None = None, answer: Text | None = None) -> StepSpec:
    return StepSpec(name, ASK, SlotSpec(slot, SlotType.TEXT), next=next, answer=answer)


LINEAR = FlowSpec(
    "callback",
    ("call me",),
    "phone",
    (ask("phone", "phone", next="day"), ask("day", "day", answer=ASK)),
)
BRANCHING = FlowSpec(
    "order",
    ("order",),
    "ask",
    (
        ask("ask", "order", next="look"),
        StepSpec("look", call=CallSpec("orders", then="tell", on_error="sorry")),
        StepSpec("tell", answer=ASK),
        ask("sorry", "again", next="ask"),  # back up to the start
    ),
)
NO_ERROR_STATE = FlowSpec(
    "lookup",
    ("look",),
    "look",
    (StepSpec("look", call=CallSpec("orders", then="tell")), StepSpec("tell", answer=ASK)),
)


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        (
            LINEAR,
            (
                Transition("phone", "day", TransitionKind.NEXT, "phone"),
                Transition("day", END, TransitionKind.ANSWER, "day"),
            ),
        ),
        (
            BRANCHING,
            (
                Transition("ask", "look", TransitionKind.NEXT, "order"),
                Transition("look", "tell", TransitionKind.CALL_OK, "orders"),
                Transition("look", "sorry", TransitionKind.CALL_ERROR, "orders"),
                Transition("tell", END, TransitionKind.ANSWER, ""),
                Transition("sorry", "ask", TransitionKind.NEXT, "again"),
            ),
        ),
        (
            NO_ERROR_STATE,
            (
                Transition("look", "tell", TransitionKind.CALL_OK, "orders"),
                Transition("look", END, TransitionKind.CALL_ERROR, "orders"),
                Transition("tell", END, TransitionKind.ANSWER, ""),
            ),
        ),
    ],
)
def test_every_way_out_of_a_state_is_an_arrow(
    flow: FlowSpec, expected: tuple[Transition, ...]
) -> None:
    assert transitions(flow) == expected


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        (LINEAR, [["phone"], ["day"], [END]]),
        (BRANCHING, [["ask"], ["look"], ["tell", "sorry"], [END]]),
        (NO_ERROR_STATE, [["look"], ["tell"], [END]]),
        (
            FlowSpec("odd", (), "a", (StepSpec("a", answer=ASK), StepSpec("lost", next="a"))),
            [["a"], ["lost"], [END]],  # a state the start never reaches comes after the rest
        ),
    ],
)
def test_states_are_layered_by_their_distance_from_the_start(
    flow: FlowSpec, expected: list[list[str]]
) -> None:
    assert layers(flow, transitions(flow)) == expected


def test_the_layout_places_every_state_once_without_overlap_inside_the_canvas() -> None:
    diagram = layout(BRANCHING)
    assert [box.name for box in diagram.boxes] == ["ask", "look", "tell", "sorry", END]
    assert [box.start for box in diagram.boxes] == [True, False, False, False, False]
    for box in diagram.boxes:
        assert box.x >= 0
        assert box.x + BOX_WIDTH <= diagram.width
        assert box.y >= 0
        assert box.y + BOX_HEIGHT <= diagram.height
    for one in diagram.boxes:
        for other in diagram.boxes:
            if one is not other:
                apart_x = one.x + BOX_WIDTH <= other.x or other.x + BOX_WIDTH <= one.x
                apart_y = one.y + BOX_HEIGHT <= other.y or other.y + BOX_HEIGHT <= one.y
                assert apart_x or apart_y, (one.name, other.name)
    tell, sorry = diagram.boxes[2], diagram.boxes[3]
    assert tell.y == sorry.y
    assert tell.x < sorry.x
    assert [a.transition for a in diagram.arrows] == list(transitions(BRANCHING))
    for arrow in diagram.arrows:
        assert 0 <= arrow.label_x <= diagram.width
        assert 0 <= arrow.label_y <= diagram.height


def test_a_forward_arrow_runs_down_and_a_backward_one_round_the_side() -> None:
    diagram = layout(BRANCHING)
    boxes = {box.name: box for box in diagram.boxes}
    down = diagram.arrows[0]  # ask -> look
    start, end = boxes["ask"], boxes["look"]
    assert down.path == (
        f"M{start.centre_x},{start.y + BOX_HEIGHT} "
        f"C{start.centre_x},{(start.y + BOX_HEIGHT + end.y) // 2} "
        f"{end.centre_x},{(start.y + BOX_HEIGHT + end.y) // 2} {end.centre_x},{end.y}"
    )
    back = diagram.arrows[4]  # sorry -> ask
    sorry = boxes["sorry"]
    assert back.path.startswith(f"M{sorry.x + BOX_WIDTH},{sorry.y + BOX_HEIGHT // 2} C")
    widest = max(box.x + BOX_WIDTH for box in diagram.boxes)
    assert back.label_x > widest, "a backward arrow's label sits in its lane, right of the boxes"


def test_a_linear_flow_is_one_centred_column() -> None:
    diagram = layout(LINEAR)
    assert len({box.x for box in diagram.boxes}) == 1
    assert [box.y for box in diagram.boxes] == sorted(box.y for box in diagram.boxes)


@pytest.mark.parametrize(
    ("detail", "lang", "shown"),
    [
        ('{"reason_en": "quiet hours", "reason_zh": "免打扰时段"}', Lang.EN, "quiet hours"),
        ('{"reason_en": "quiet hours", "reason_zh": "免打扰时段"}', Lang.ZH, "免打扰时段"),
        ('{"reason_en": "only English"}', Lang.ZH, "only English"),
        ('{"reason": "gambling ads", "from": "active"}', Lang.EN, "gambling ads"),
        (
            '{"role": "agent", "checks": [["R1", "allow"]]}',
            Lang.EN,
            'role: agent · checks: [["R1", "allow"]]',
        ),
        ("{}", Lang.EN, ""),
        ("not json", Lang.EN, "not json"),
        ("[1, 2]", Lang.EN, "[1, 2]"),
    ],
)
def test_an_entry_shows_the_reason_of_its_detail(detail: str, lang: Lang, shown: str) -> None:
    assert reason_of(detail, lang) == shown
