"""The flows page: every flow of the demo bundle drawn, and the conversations in a flow now."""

from __future__ import annotations

import html
import re
from importlib import resources
from typing import Any

import httpx
import yaml
from tests.e2e.test_dashboard_accounts import _member, _sign_in
from tests.support.api import say

from kindbot.bootstrap import Container
from kindbot.core.records.accounts import Role

PAGE = "/dashboard/teashop/flows"


def _bundle_flows() -> list[dict[str, Any]]:
    text = resources.files("kindbot.demo").joinpath("bundle.yaml").read_text("utf-8")
    flows = yaml.safe_load(text)["flows"]
    assert flows, "the demo bundle has flows"
    return list(flows)


def _expected_arrows(flow: dict[str, Any]) -> set[tuple[str, str]]:
    """(source, target) of every transition, read from the bundle itself ("end": the flow ends)."""
    arrows = set()
    for name, state in flow["states"].items():
        if "next" in state:
            arrows.add((name, state["next"]))
        if "call" in state:
            arrows.add((name, state["call"]["then"]))
            arrows.add((name, state["call"].get("on_error", "end")))
        if "answer" in state:
            arrows.add((name, "end"))
    return arrows


def _svg_of(page: str, flow: str) -> str:
    section = re.search(
        rf'<h2 id="flow-\d+-title">{re.escape(flow)}</h2>(.*?)</section>', page, re.S
    )
    assert section, flow
    svg = re.search(r"<svg .*?</svg>", section.group(1), re.S)
    assert svg, f"{flow} is drawn"
    return svg.group(0)


async def test_every_state_and_transition_of_the_bundles_flows_is_drawn_and_listed(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "agent@teashop.cn", Role.AGENT)
    await _sign_in(client, "agent@teashop.cn")
    page = await client.get(PAGE, params={"lang": "en"})
    assert page.status_code == 200
    for flow in _bundle_flows():
        svg = _svg_of(page.text, flow["name"])
        drawn_states = set(re.findall(r'<g class="state[^"]*" data-state="([^"]+)"', svg))
        assert drawn_states == set(flow["states"]) | {"end"}
        drawn = set(re.findall(r'data-source="([^"]+)" data-target="([^"]+)"', svg))
        assert drawn == _expected_arrows(flow)
        assert svg.count("marker-end=") == len(drawn), "one arrow per transition"
        assert f'data-state="{flow["start"]}">' in svg
        assert 'role="img"' in svg
        listed = re.findall(
            r"<li><code>([^<]+)</code> → <code>([^<]+)</code>",
            page.text.split(f">{flow['name']}</h2>", 1)[1].split("</section>", 1)[0],
        )
        assert {(s, "end" if t == "End" else t) for s, t in listed} == drawn
        for keyword in flow["trigger"]["keywords"]:
            assert f"<code>{html.escape(keyword)}</code>" in page.text
        for state in flow["states"].values():
            if "slot" in state:
                assert f"<code>{state['slot']['name']}</code>" in page.text
    assert "No conversation is in a flow." in page.text
    assert "finished runs are not kept" in page.text
    chinese = await client.get(PAGE, params={"lang": "zh"})
    assert "结束" in chinese.text
    assert "回答后" in chinese.text


async def test_a_conversation_in_a_flow_is_listed_with_its_state(
    container: Container, client: httpx.AsyncClient
) -> None:
    await say(client, "zoe", "请给我回电", "m1")
    await _member(container, "viewer@teashop.cn", Role.VIEWER)
    await _sign_in(client, "viewer@teashop.cn")
    page = await client.get(PAGE, params={"lang": "en"})
    runs = page.text.split('id="runs-title"', 1)[1]
    assert '<td data-label="Flow">callback</td>' in runs
    assert "<code>ask_phone</code>" in runs
    assert "(Asia/Shanghai)" in runs

    await say(client, "zoe", "13800138000", "m2")
    moved = (await client.get(PAGE)).text.split('id="runs-title"', 1)[1]
    assert "<code>ask_day</code>" in moved
    assert "<code>phone</code>" in moved, "the slots collected, by name"
    assert "13800138000" not in moved, "never the customer's values"
