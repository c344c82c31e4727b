"""Handlers, clarification and handoff end to end: web chat on a live server, and ``kindbot chat``.

The tenant is the demo tea shop with the handler module of the handler tests
(``tests/support/shop_handlers.py``) listed in its bundle.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.e2e.test_flows_end_to_end import bot_messages, run_kindbot
from tests.support.clock import FakeClock
from tests.support.live import live_server
from tests.support.tenants import apply_approved

from kindbot.bootstrap import Container
from kindbot.dialogue.handoff import NOBODY_ZH
from kindbot.dialogue.responder import UNSURE_EN

DEMO = Path(__file__).parents[2] / "src" / "kindbot" / "demo"
REPO = Path(__file__).parents[2]
HANDLER_REPLY = "价格请以商品页为准；会员另享 95 折。"
# The conversation both front ends hold: a vague question (numbered choices),
# picking choice 2, a handler's answer, a handler that raises (the customer
# gets the honest fallback, never silence), then asking for a person — nobody
# is online in the demo: the bot says so and goes on answering the knowledge base.
VAGUE = "茶"  # a single word: shelf life, caffeine or brewing? The bot asks.
SAID = (VAGUE, "2", "这款茶的价格是多少", "boom", "转人工", "运费怎么算")


def with_handlers(directory: Path) -> Path:
    """The demo bundle plus ``handlers: [tests.support.shop_handlers]``, in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEMO / "faq.csv", directory / "faq.csv")
    text = (DEMO / "bundle.yaml").read_text(encoding="utf-8")
    bundle = directory / "bundle.yaml"
    bundle.write_text(text + "\nhandlers: [tests.support.shop_handlers]\n", encoding="utf-8")
    return bundle


def assert_the_conversation(replies: list[str]) -> None:
    assert len(replies) == len(SAID), replies
    vague, picked, price, broken, person, meanwhile = replies
    assert price.startswith(HANDLER_REPLY)
    assert broken.startswith(UNSURE_EN)  # "boom" is English: so is the fallback
    assert "1." in vague  # numbered choices in text
    assert "2. 哪种茶咖啡因比较少？" in vague
    assert "草本花茶" in picked  # "2" picked the second choice
    assert person.startswith(NOBODY_ZH)
    assert "继续回答" in person
    assert "99 元包邮" in meanwhile


@pytest.fixture
async def base_url(container: Container, clock: FakeClock, tmp_path: Path) -> AsyncIterator[str]:
    await apply_approved(container, with_handlers(tmp_path / "bundle"), clock.now())
    async with live_server(container) as url:
        yield url


async def test_the_web_chat_runs_handlers_clarification_and_handoff(base_url: str) -> None:
    chat = "/chat/teashop.web"
    replies: list[str] = []
    async with httpx.AsyncClient(base_url=base_url) as client:
        await client.get(chat)
        for number, text in enumerate(SAID):
            body = {"text": text, "client_id": f"d{number}"}
            response = await client.post(f"{chat}/messages", json=body)
            assert response.status_code == 200, response.text
            messages = response.json()["messages"]
            assert messages[0]["direction"] == "inbound"
            replies.append(messages[-1]["text"])
            if text == VAGUE:
                choices = messages[-1].get("choices")
                assert choices  # buttons in the page
                assert choices[1] == "哪种茶咖啡因比较少？"
    assert_the_conversation(replies)


async def test_kindbot_chat_runs_handlers_clarification_and_handoff(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    bundle = with_handlers(tmp_path / "bundle")
    env = {"PYTHONPATH": str(REPO)}  # the bundle's handler module lives in the test tree
    await run_kindbot("apply", str(bundle), data_dir=data_dir, **env)
    await run_kindbot("tenant", "approve", "teashop", "--reason", "e2e", data_dir=data_dir)
    out = await run_kindbot(
        "chat", "--tenant", "teashop", data_dir=data_dir, stdin="\n".join(SAID) + "\n", **env
    )
    assert_the_conversation(bot_messages(out))
