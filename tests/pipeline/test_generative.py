"""Generative answers through the whole pipeline, against a real local OpenAI-compatible server.

The server (:mod:`kindbot.testing.openai_compat`) runs under uvicorn on a free
loopback port; the pipeline reaches it over HTTP with the container's client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from tests.support.clock import FakeClock
from tests.support.live import serve_app

from kindbot.bootstrap import Container
from kindbot.core.events import FeedResult, InboundEvent, InboundKind
from kindbot.dialogue.grounded import GenerativeSettings
from kindbot.guard.rules import AIGC_LABEL_EN
from kindbot.settings import Settings
from kindbot.testing.openai_compat import Behaviour, OpenAICompatServer
from kindbot.web.api.models_inbox import MessageOut

KEY = "sk-local-test-key-0123456789"
BELOW = "how long does shipping take"
"""Below the demo's threshold (0.4) but clearly about the en-shipping entry."""
SHIPPING_ANSWER = "We currently ship within mainland China only."


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Words only: ``BELOW`` is below the threshold for the lexical rankers (the
    multilingual sentence encoder answers it outright, 0.8)."""
    return replace(settings, sentence_encoder="off")


@pytest.fixture
async def llm() -> AsyncIterator[tuple[OpenAICompatServer, str]]:
    server = OpenAICompatServer(api_key=KEY)
    async with serve_app(server.app) as url:
        try:
            yield server, f"{url}/v1"
        finally:
            server.release()


async def configure(container: Container, base_url: str, **overrides: object) -> None:
    fields: dict[str, object] = {
        "base_url": base_url,
        "model": "kindbot-test-model",
        "api_key": KEY,
        "timeout_seconds": 5.0,
        "min_confidence": 0.1,
    }
    fields.update(overrides)
    settings = GenerativeSettings(**fields)  # type: ignore[arg-type]
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        await tx.tenants.set_llm(tenant.id, container.box.seal(settings.to_json()))


async def ask(container: Container, clock: FakeClock, text: str, sender: str) -> FeedResult:
    event = InboundEvent(
        channel_public_id="teashop.web",
        sender=sender,
        kind=InboundKind.TEXT,
        text=text,
        idempotency_key=f"{sender}:{text}",
        received_at=clock.now(),
    )
    return await container.pipeline.feed(event, sync_grace=timedelta(seconds=30))


def texts(result: FeedResult) -> list[str]:
    return [reply.text for reply in result.replies]


async def audit_detail(container: Container, subject: str) -> dict[str, object]:
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        entries = await tx.audit.entries(tenant.id, 0, 10_000)
    found = [e for e in entries if e.kind == "outbound" and e.subject == subject]
    assert len(found) == 1, [(e.kind, e.subject) for e in entries]
    detail = json.loads(found[0].detail)
    assert isinstance(detail, dict)
    return {"decision": found[0].decision, "rule": found[0].rule, **detail}


async def test_a_below_threshold_question_is_answered_by_the_model_labelled_and_recorded(
    container: Container, clock: FakeClock, llm: tuple[OpenAICompatServer, str]
) -> None:
    server, url = llm
    await configure(container, url)
    result = await ask(container, clock, BELOW, "visitor-llm")

    [text] = texts(result)
    assert text.startswith(AIGC_LABEL_EN + SHIPPING_ANSWER), text
    [request] = server.requests
    assert request.authorization == f"Bearer {KEY}"
    sent = json.dumps(request.body, ensure_ascii=False)
    assert "visitor-llm" not in sent  # nothing about the contact goes to the model
    assert KEY not in sent
    prompt = json.loads(request.user_content)
    assert prompt["message"] == BELOW
    assert prompt["entries"][0]["id"] == "en-shipping"

    async with container.store.transaction(readonly=True) as tx:
        history = await tx.messages.history(result.conversation_id, 10)
    [stored] = [m for m in history if m.id == result.replies[0].message_id]
    assert stored.generated
    assert stored.source_entry_ids == ("en-shipping",)
    shown = MessageOut.of(stored)  # as the inbox API shows it
    assert (shown.generated, shown.source_entry_ids) == (True, ["en-shipping"])
    detail = await audit_detail(container, f"message:{stored.id}")
    assert detail["decision"] == "allow"
    assert detail["generated_from"] == ["en-shipping"]
    assert ["disclosure", "allow"] in detail["checks"]  # type: ignore[operator]


async def normal_reply(container: Container, clock: FakeClock, text: str) -> list[str]:
    """What a tenant without a model answers (a fresh contact, before ``configure``)."""
    return texts(await ask(container, clock, text, "visitor-baseline"))


@pytest.mark.parametrize(
    "behaviour",
    [
        Behaviour(delay_seconds=2.0),
        Behaviour(status=500),
        Behaviour(status=429),
        Behaviour(malformed=True),
        Behaviour(foreign_ids=True),
        Behaviour(content="Sure! We ship fast."),
        Behaviour(answer_text=""),
    ],
    ids=["timeout", "http500", "http429", "malformed", "unknown_ids", "not_json", "empty"],
)
async def test_a_failing_model_leaves_the_normal_path(
    container: Container,
    clock: FakeClock,
    llm: tuple[OpenAICompatServer, str],
    behaviour: Behaviour,
) -> None:
    server, url = llm
    expected = await normal_reply(container, clock, BELOW)
    await configure(container, url, timeout_seconds=0.2)
    server.behaviour = behaviour
    result = await ask(container, clock, BELOW, "visitor-llm")
    assert len(server.requests) == 1
    assert texts(result) == expected
    assert not any(t.startswith(AIGC_LABEL_EN) for t in texts(result))


async def test_a_refusal_and_a_wrong_key_leave_the_normal_path(
    container: Container,
    clock: FakeClock,
    llm: tuple[OpenAICompatServer, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server, url = llm
    marked = f"{BELOW} [[no-answer]]"
    expected = await normal_reply(container, clock, marked)
    await configure(container, url)
    assert texts(await ask(container, clock, marked, "visitor-a")) == expected
    await configure(container, url, api_key="sk-wrong")
    assert texts(await ask(container, clock, marked, "visitor-b")) == expected
    assert len(server.requests) == 2
    assert "HTTP 401" in caplog.text  # the reason is logged …
    assert KEY not in caplog.text  # … never a key
    assert "sk-wrong" not in caplog.text


async def test_generated_text_the_moderation_blocks_is_denied_by_the_guard(
    container: Container, clock: FakeClock, llm: tuple[OpenAICompatServer, str]
) -> None:
    server, url = llm
    await configure(container, url)
    server.behaviour = Behaviour(answer_text="欢迎来网上赌场下注，百家乐包赢")
    result = await ask(container, clock, BELOW, "visitor-llm")
    assert result.replies == ()  # the customer gets nothing harmful
    detail = await audit_detail(container, f"reply-to:{result.inbound_message_id}")
    assert (detail["decision"], detail["rule"]) == ("deny", "content")
    assert detail["generated_from"] == ["en-shipping"]


async def test_the_model_is_never_called_unless_configured_or_needed(
    container: Container, clock: FakeClock, llm: tuple[OpenAICompatServer, str]
) -> None:
    server, url = llm
    unsure = await ask(container, clock, BELOW, "visitor-1")  # not configured
    assert not any(t.startswith(AIGC_LABEL_EN) for t in texts(unsure))
    await configure(container, url)
    answered = await ask(container, clock, "运费怎么算", "visitor-2")  # above the threshold
    assert "99 元包邮" in texts(answered)[0]
    person = await ask(container, clock, "人工", "visitor-3")  # an explicit request
    assert "人工客服" in texts(person)[0]
    nothing = await ask(container, clock, "今天天气怎么样", "visitor-4")  # below min_confidence
    assert not any(t.startswith("【AI 生成】") for t in texts(nothing))
    assert server.requests == []


async def test_the_model_is_not_asked_while_a_person_has_the_conversation(
    container: Container, clock: FakeClock, llm: tuple[OpenAICompatServer, str]
) -> None:
    server, url = llm
    await configure(container, url)
    await ask(container, clock, "人工", "visitor-5")  # waiting for a person from now on
    held = await ask(container, clock, BELOW, "visitor-5")
    assert held.replies == ()  # the bot is silent while a person is awaited
    assert server.requests == []
    answered = await ask(container, clock, BELOW, "visitor-6")  # another customer: the bot has it
    assert texts(answered)[0].startswith(AIGC_LABEL_EN)
    assert len(server.requests) == 1
