"""A bundle's ``flows:`` and ``endpoints:``: every mistake is refused with its field and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kindbot.bundles.apply import prepare_bundle
from kindbot.core.errors import InputFileError
from kindbot.dialogue.flow_specs import Text

HEAD = "tenant: {slug: shop, name: Shop, industry: retail}\n"
ENDPOINTS = """endpoints:
  orders:
    url: https://shop.example.com/api/orders
    headers: {Authorization: Bearer t0ken}
"""
FLOW = """flows:
  - name: order
    trigger: {keywords: [查订单]}
    start: ask
    states:
      ask:
        prompt: 请告诉我订单号。
        slot: {name: order, type: order_number}
        call: {endpoint: orders, then: tell, on_error: sorry}
      tell:
        answer: {zh: "订单 {order}：{response.status}", en: "Order {order}: {response.status}"}
      sorry:
        answer: 查不到。
"""


def problems(tmp_path: Path, text: str) -> str:
    path = tmp_path / "shop.yaml"
    path.write_text(HEAD + text, encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        prepare_bundle(path)
    return str(caught.value)


def test_a_good_flow_section_becomes_flow_specs(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(HEAD + ENDPOINTS + FLOW, encoding="utf-8")
    bundle = prepare_bundle(path).bundle
    spec = bundle.flows[0].to_spec()
    assert spec.keywords == ("查订单",)
    assert spec.cancel_words[:2] == ("取消", "算了")
    assert spec.timeout_minutes == 30
    tell = spec.step("tell")
    assert tell is not None
    assert tell.answer == Text(
        "订单 {order}：{response.status}", "Order {order}: {response.status}"
    )
    ask = spec.step("ask")
    assert ask is not None
    assert ask.prompt == Text("请告诉我订单号。", "请告诉我订单号。")
    assert bundle.endpoints["orders"].to_spec("orders").headers == (
        ("Authorization", "Bearer t0ken"),
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("then: tell", "then: tel"),
            "line 14, flows[0].states.ask.call.then: unknown state 'tel'",
        ),
        (("start: ask", "start: begin"), "flows[0].start: start state 'begin' is not one of"),
        (("endpoint: orders", "endpoint: crm"), "states.ask.call.endpoint: endpoint 'crm'"),
        (('{response.status}"', '{status}"'), "line 16, flows[0].states.tell.answer.zh: {status}"),
        (("type: order_number", "type: money"), "line 13, flows[0].states.ask.slot.type"),
        (("type: order_number", "type: choice"), "choices are given for, and only for"),
        (("[查订单]", "[查订单], regex: '(('"), "flows[0].trigger.regex: Value error, not a valid"),
        (("name: order,", "name: flow,"), "slot name 'flow' is reserved"),
        (
            ("        call: {endpoint: orders, then: tell, on_error: sorry}\n", ""),
            "line 12, flows[0].states.ask.next: give exactly one of next, call or answer",
        ),
        (("on_error: sorry", "on_error: ask"), "flows[0].states.sorry: state 'sorry' is never"),
    ],
)
def test_flow_mistakes_name_their_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    message = problems(tmp_path, ENDPOINTS + FLOW.replace(*change))
    assert expected in message, message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("https://shop", "file://shop"), "endpoints.orders.url"),
        (
            ("    headers", "    timeout_seconds: 11\n    headers"),
            "endpoints.orders.timeout_seconds",
        ),
        (("    headers", "    method: DELETE\n    headers"), "endpoints.orders.method"),
        (("Authorization:", "'Bad Header':"), "endpoints.orders.headers.Bad Header"),
    ],
)
def test_endpoint_mistakes_name_their_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    message = problems(tmp_path, ENDPOINTS.replace(*change) + FLOW)
    assert expected in message, message


def test_two_flows_with_one_name_are_refused(tmp_path: Path) -> None:
    second = FLOW.split("\n", 1)[1]
    message = problems(tmp_path, ENDPOINTS + FLOW + second)
    assert "flows[1].name: flow 'order' appears twice" in message, message
