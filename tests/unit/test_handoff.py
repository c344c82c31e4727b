"""The handoff state machine, round-robin choice and rating parsing (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kindbot.core.records.conversations import ConversationState
from kindbot.core.records.handoff import AgentRecord
from kindbot.dialogue.handoff import (
    SATISFACTION_EN,
    SATISFACTION_ZH,
    HandoffAction,
    InvalidTransitionError,
    bot_answers,
    parse_rating,
    pick_agent,
    satisfaction_question,
    transition,
)

BOT, WAITING, HUMAN, RESOLVED = (
    ConversationState.BOT,
    ConversationState.WAITING,
    ConversationState.HUMAN,
    ConversationState.RESOLVED,
)
T0 = datetime(2026, 12, 1, tzinfo=UTC)

ALLOWED = {
    (BOT, HandoffAction.REQUEST): WAITING,
    (WAITING, HandoffAction.CLAIM): HUMAN,
    (HUMAN, HandoffAction.TRANSFER): HUMAN,
    (WAITING, HandoffAction.RESOLVE): RESOLVED,
    (HUMAN, HandoffAction.RESOLVE): RESOLVED,
}


@pytest.mark.parametrize("state", list(ConversationState))
@pytest.mark.parametrize("action", list(HandoffAction))
def test_every_state_and_action(state: ConversationState, action: HandoffAction) -> None:
    expected = ALLOWED.get((state, action))
    if expected is None:
        with pytest.raises(InvalidTransitionError) as raised:
            transition(state, action)
        assert raised.value.code == "invalid_transition"
        assert raised.value.http_status == 409
    else:
        assert transition(state, action) is expected


def test_only_the_bot_state_lets_the_bot_answer() -> None:
    assert [s for s in ConversationState if bot_answers(s)] == [BOT]


def agent(name: str, *, online: bool = True, assigned: int | None = None) -> AgentRecord:
    at = T0 + timedelta(minutes=assigned) if assigned is not None else None
    return AgentRecord(name, "t1", name, online, at, T0)


def test_round_robin_prefers_never_assigned_then_least_recent() -> None:
    never = pick_agent([agent("a", assigned=5), agent("b"), agent("c", assigned=1)])
    assert never is not None
    assert never.name == "b"
    picked = pick_agent([agent("a", assigned=5), agent("c", assigned=1)])
    assert picked is not None
    assert picked.name == "c"


def test_round_robin_skips_offline_agents() -> None:
    assert pick_agent([agent("a", online=False)]) is None
    assert pick_agent([]) is None
    picked = pick_agent([agent("a", online=False), agent("b", assigned=9)])
    assert picked is not None
    assert picked.name == "b"


@pytest.mark.parametrize(
    ("text", "rating"),
    [("5", 5), (" 1 ", 1), ("３", 3), ("0", None), ("6", None), ("55", None), ("好", None)],
)
def test_ratings(text: str, rating: int | None) -> None:
    assert parse_rating(text) == rating


def test_the_question_follows_the_tenant_language() -> None:
    assert satisfaction_question("zh-CN") == SATISFACTION_ZH
    assert satisfaction_question("en") == SATISFACTION_EN
