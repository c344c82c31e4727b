"""Grounded generative answers: what the model is sent, and which replies are accepted."""

from __future__ import annotations

import json

import pytest

from kindbot.core.events import OutboundReply, ReplyOrigin
from kindbot.dialogue.grounded import (
    MAX_ANSWER_CHARS,
    GenerativeSettings,
    GroundedAnswer,
    GroundingRequest,
    NoGroundedAnswer,
    answered,
    chat_body,
    completion_content,
    grounding_request,
    validate_reply,
    wants_grounding,
)
from kindbot.dialogue.responder import DialogueOutcome
from kindbot.dialogue.retrieval import Match

FOUND = (
    Match("ship-time", "下单后多久发货？", "工作日 16:00 前付款当天发出。", 0.31),
    Match("courier", "用什么快递？", "默认发顺丰速运。", 0.12),
    Match("tracking", "怎么查物流？", "订单详情里有快递单号。", 0.05),
)
SETTINGS = GenerativeSettings(
    base_url="http://127.0.0.1:9/v1", model="m", api_key="sk-secret-value", temperature=0.2
)
FALLBACK = OutboundReply("请选择…", ReplyOrigin.FALLBACK)


def user_prompt(body: dict[str, object]) -> dict[str, object]:
    messages = body["messages"]
    assert isinstance(messages, list)
    assert [m["role"] for m in messages] == ["system", "user"]
    prompt = json.loads(messages[1]["content"])
    assert isinstance(prompt, dict)
    return prompt


def test_the_prompt_holds_the_chosen_entries_with_their_ids_and_only_the_message() -> None:
    request = grounding_request("北京几天能到？", FOUND, max_entries=2)
    body = chat_body(request, SETTINGS)
    assert (body["model"], body["temperature"]) == ("m", 0.2)
    prompt = user_prompt(body)
    assert prompt == {
        "entries": [
            {
                "id": "ship-time",
                "question": "下单后多久发货？",
                "answer": "工作日 16:00 前付款当天发出。",
            },
            {"id": "courier", "question": "用什么快递？", "answer": "默认发顺丰速运。"},
        ],
        "message": "北京几天能到？",
    }
    sent = json.dumps(body, ensure_ascii=False)
    assert "tracking" not in sent  # an entry beyond max_entries is not sent
    assert "sk-secret-value" not in sent  # the key is never in the body
    assert "JSON" in body["messages"][0]["content"]  # type: ignore[index]


def test_settings_round_trip_and_hide_the_key_from_repr() -> None:
    assert GenerativeSettings.from_json(SETTINGS.to_json()) == SETTINGS
    assert "sk-secret-value" not in repr(SETTINGS)


def outcome(score: float, **kwargs: object) -> DialogueOutcome:
    found = (Match("a", "q", "ans", score),)
    return DialogueOutcome((FALLBACK,), candidates=found, unanswered=True, **kwargs)  # type: ignore[arg-type]


def test_only_a_below_threshold_outcome_with_a_likely_candidate_asks_the_model() -> None:
    assert wants_grounding(outcome(0.2), 0.15)
    assert wants_grounding(outcome(0.2, handoff=True), 0.15)  # the streak's handoff
    assert not wants_grounding(outcome(0.1), 0.15)  # the knowledge base has nothing relevant
    assert not wants_grounding(outcome(0.2, handler_error="boom"), 0.15)
    answered_by_kb = DialogueOutcome((FALLBACK,), candidates=(Match("a", "q", "ans", 0.9),))
    assert not wants_grounding(answered_by_kb, 0.15)
    assert not wants_grounding(DialogueOutcome((FALLBACK,), handoff=True), 0.15)
    assert not wants_grounding(DialogueOutcome((FALLBACK,), unanswered=True), 0.15)


REQUEST = grounding_request("how long?", FOUND, max_entries=3)


def test_a_grounded_answer_is_accepted() -> None:
    reply = json.dumps({"answer": "  We ship today.  ", "entry_ids": ["ship-time", "ship-time"]})
    assert validate_reply(reply, REQUEST) == GroundedAnswer("We ship today.", ("ship-time",))
    fenced = '```json\n{"answer": "ok", "entry_ids": ["courier", "tracking"]}\n```'
    assert validate_reply(fenced, REQUEST) == GroundedAnswer("ok", ("courier", "tracking"))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("We ship today.", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"answer": null}', "no answer"),
        ("{}", "no answer"),
        ('{"answer": "   ", "entry_ids": ["courier"]}', "non-empty text"),
        ('{"answer": 42, "entry_ids": ["courier"]}', "non-empty text"),
        (json.dumps({"answer": "x" * (MAX_ANSWER_CHARS + 1), "entry_ids": ["courier"]}), "longer"),
        ('{"answer": "ok"}', "entry_ids"),
        ('{"answer": "ok", "entry_ids": []}', "entry_ids"),
        ('{"answer": "ok", "entry_ids": "courier"}', "entry_ids"),
        ('{"answer": "ok", "entry_ids": [1]}', "entry_ids"),
        ('{"answer": "ok", "entry_ids": ["courier", "refund"]}', "not given: ['refund']"),
    ],
)
def test_every_other_reply_is_refused_with_a_reason(content: str, reason: str) -> None:
    result = validate_reply(content, REQUEST)
    assert isinstance(result, NoGroundedAnswer)
    assert reason in result.reason


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"choices": []},
        {"choices": [{"message": {}}]},
        [],
        {"choices": [{"message": {"content": None}}]},
    ],
)
def test_a_completion_without_text_content_is_refused(body: object) -> None:
    assert isinstance(completion_content(body), NoGroundedAnswer)


def test_the_completion_content_is_the_first_choice() -> None:
    body = {"choices": [{"message": {"role": "assistant", "content": "{}"}}, {"message": {}}]}
    assert completion_content(body) == "{}"


def test_an_accepted_answer_replaces_the_fallback_and_names_its_entries() -> None:
    before = outcome(0.2, handoff=True)
    after = answered(before, GroundedAnswer("We ship today.", ("a",)))
    assert after.replies == (
        OutboundReply("We ship today.", ReplyOrigin.GENERATED, source_entry_ids=("a",)),
    )
    assert (after.handoff, after.unanswered, after.candidates) == (False, False, before.candidates)


def test_an_empty_request_has_no_ids() -> None:
    assert GroundingRequest("x", ()).entry_ids == frozenset()
