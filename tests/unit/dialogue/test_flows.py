"""The flow engine: every transition of :func:`advance` and :func:`resume` (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kindbot.dialogue.flow_specs import CallSpec, FlowBook, FlowSpec, SlotSpec, StepSpec, Text
from kindbot.dialogue.flows import (
    CALL_FAILED,
    CANCELLED,
    GAVE_UP,
    CallResult,
    EndpointCall,
    FlowOutcome,
    FlowState,
    FlowStep,
    advance,
    resume,
    triggered_flow,
)
from kindbot.dialogue.slots import SlotType

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
ZONE = ZoneInfo("Asia/Shanghai")

ORDER = FlowSpec(
    name="order-status",
    keywords=("查订单", "where is my order"),
    start="ask",
    states=(
        StepSpec(
            "ask",
            prompt=Text("请告诉我订单号。", "Your order number?"),
            slot=SlotSpec("order", SlotType.ORDER_NUMBER, max_retries=1),
            next="looking",
        ),
        StepSpec(
            "looking",
            prompt=Text("正在查询 {order}…", "Looking up {order}…"),
            call=CallSpec("shop", then="tell", on_error="sorry"),
        ),
        StepSpec(
            "tell",
            answer=Text("订单 {order}：{response.status}，{response.eta}", "Order {order}: x"),
        ),
        StepSpec("sorry", answer=Text("查不到订单 {order}。", "Cannot find {order}.")),
    ),
)
CALLBACK = FlowSpec(
    name="callback",
    keywords=("回电",),
    regex=r"(?i)call\s+me",
    start="phone",
    timeout_minutes=10,
    states=(
        StepSpec(
            "phone",
            prompt=Text("手机号？", "Your mobile?"),
            slot=SlotSpec("phone", SlotType.PHONE, retry_prompt=Text("号码不对：{phone}", "x")),
            next="part",
        ),
        StepSpec(
            "part",
            prompt=Text("上午还是下午？", "Morning or afternoon?"),
            slot=SlotSpec("part", SlotType.CHOICE, choices=("上午", "下午")),
            call=CallSpec("crm", then="done"),
        ),
        StepSpec("done", answer=Text("好的，{part}联系您。", "OK, {part}.")),
    ),
)
BOOK = FlowBook((ORDER, CALLBACK))


def step(state: FlowState | None, text: str, now: datetime = NOW) -> FlowStep:
    return advance(BOOK, state, text, now, zone=ZONE, prefer_chinese=True)


def in_state(
    flow: str,
    name: str,
    slots: dict[str, str] | None = None,
    *,
    retries: int = 0,
    language: str = "zh",
    updated_at: datetime = NOW,
) -> FlowState:
    return FlowState(
        flow, name, tuple(sorted((slots or {}).items())), retries, language, updated_at
    )


def test_no_trigger_leaves_the_message_alone() -> None:
    result = step(None, "运费多少钱")
    assert result == FlowStep((), None, False, FlowOutcome.NONE)


def test_a_keyword_starts_the_flow_with_its_prompt() -> None:
    result = step(None, "我想查订单")
    assert result.outcome is FlowOutcome.STARTED
    assert result.handled
    assert result.replies == ("请告诉我订单号。",)
    assert result.state == in_state("order-status", "ask")


def test_keywords_match_after_normalising_and_the_language_follows_the_customer() -> None:
    result = step(None, "Hi, WHERE IS MY   ORDER?")
    assert result.replies == ("Your order number?",)
    assert result.state is not None
    assert result.state.language == "en"
    assert triggered_flow(BOOK, "查訂單") is ORDER  # traditional script


def test_a_regex_trigger_starts_a_flow() -> None:
    assert triggered_flow(BOOK, "please CALL  me tomorrow") is CALLBACK


def test_a_valid_answer_moves_on_and_a_call_is_requested() -> None:
    result = step(in_state("order-status", "ask"), "订单号 A12345678")
    assert result.outcome is FlowOutcome.CALLING
    assert result.replies == ("正在查询 A12345678…",)
    assert result.call == EndpointCall("shop", "order-status", (("order", "A12345678"),))
    assert result.state == in_state("order-status", "looking", {"order": "A12345678"})


def test_a_successful_call_fills_the_answer_from_the_response() -> None:
    calling = in_state("order-status", "looking", {"order": "A12345678"})
    result = resume(BOOK, calling, CallResult(ok=True, fields=(("status", "已发货"),)))
    assert result.outcome is FlowOutcome.COMPLETED
    assert result.replies == ("订单 A12345678：已发货，（暂无）",)  # eta missing: the fallback
    assert result.state is None


def test_a_failed_call_goes_to_on_error() -> None:
    calling = in_state("order-status", "looking", {"order": "A12345678"})
    result = resume(BOOK, calling, CallResult(ok=False))
    assert result.replies == ("查不到订单 A12345678。",)
    assert result.state is None
    assert result.outcome is FlowOutcome.COMPLETED


def test_a_failed_call_without_on_error_apologises_and_offers_a_person() -> None:
    calling = in_state("callback", "part", {"phone": "13800138000", "part": "上午"})
    result = resume(BOOK, calling, CallResult(ok=False))
    assert result == FlowStep((CALL_FAILED[0],), None, True, FlowOutcome.FAILED)
    assert "人工" in result.replies[0]


def test_response_fields_of_an_earlier_call_are_replaced_and_never_sent() -> None:
    calling = in_state("callback", "part", {"phone": "13800138000", "response.old": "x"})
    result = step(calling, "2")
    assert result.call == EndpointCall(
        "crm", "callback", (("part", "下午"), ("phone", "13800138000"))
    )
    done = resume(BOOK, result.state or calling, CallResult(True, (("id", "7"),)))
    assert done.replies == ("好的，下午联系您。",)


def test_an_invalid_answer_gets_the_retry_prompt_then_the_flow_gives_up() -> None:
    asking = in_state("order-status", "ask")
    first = step(asking, "我忘了")
    assert first.outcome is FlowOutcome.RETRY
    assert first.state == in_state("order-status", "ask", retries=1)
    assert "订单号" in first.replies[0]
    second = step(first.state, "还是忘了")
    assert second == FlowStep((GAVE_UP[0],), None, True, FlowOutcome.GAVE_UP)
    assert "人工" in second.replies[0]


def test_a_custom_retry_prompt_is_a_template_and_choices_are_listed() -> None:
    asking = in_state("callback", "phone")
    assert step(asking, "123").replies == ("号码不对：（暂无）",)
    choosing = in_state("callback", "part", {"phone": "13800138000"})
    assert step(choosing, "晚上").replies == ("请从以下选项中选择： 1. 上午 2. 下午",)


def test_a_cancel_word_ends_the_flow_with_a_confirmation() -> None:
    result = step(in_state("order-status", "ask"), " 取消！")
    assert result == FlowStep((CANCELLED[0],), None, True, FlowOutcome.CANCELLED)
    english = step(in_state("order-status", "ask", language="en"), "Cancel")
    assert english.replies == (CANCELLED[1],)


def test_asking_for_a_person_ends_the_flow_and_leaves_the_message_to_dialogue() -> None:
    result = step(in_state("order-status", "ask"), "人工")
    assert result == FlowStep((), None, False, FlowOutcome.HANDOFF)


def test_after_the_timeout_the_flow_is_dropped_and_the_message_starts_afresh() -> None:
    old = in_state("callback", "phone", updated_at=NOW - timedelta(minutes=11))
    assert step(old, "13800138000") == FlowStep((), None, False, FlowOutcome.EXPIRED)
    restarted = step(old, "还是请给我回电吧")
    assert restarted.outcome is FlowOutcome.STARTED
    assert restarted.state == in_state("callback", "phone")
    fresh_enough = in_state("callback", "phone", updated_at=NOW - timedelta(minutes=9))
    assert step(fresh_enough, "13800138000").outcome is FlowOutcome.WAITING


def test_a_state_whose_flow_or_step_is_gone_is_dropped() -> None:
    assert step(in_state("removed", "ask"), "hello").outcome is FlowOutcome.EXPIRED
    assert step(in_state("order-status", "gone"), "hello").outcome is FlowOutcome.EXPIRED


def test_dates_are_read_in_the_tenants_time_zone() -> None:
    dated = FlowSpec(
        name="d",
        keywords=("预约",),
        start="day",
        states=(
            StepSpec("day", Text("哪天？", "Day?"), SlotSpec("day", SlotType.DATE), next="ok"),
            StepSpec("ok", answer=Text("{day}", "{day}")),
        ),
    )
    late_utc = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # already the 26th in Shanghai
    state = in_state("d", "day", updated_at=late_utc)
    result = advance(FlowBook((dated,)), state, "明天", late_utc, zone=ZONE, prefer_chinese=True)
    assert result.replies == ("2026-11-27",)


@pytest.mark.parametrize("text", ["", "\x00", "{order}", "{{}}", "人工客服"])
def test_odd_messages_never_raise(text: str) -> None:
    for state in (None, in_state("order-status", "ask"), in_state("callback", "part")):
        step(state, text)
