"""Human handoff decisions, as pure functions: states, assignment, the satisfaction rating.

A conversation moves ``bot → waiting → human → resolved`` (DESIGN.md issue 6):

* ``REQUEST`` — the dialogue's handoff words or the bot-loop detector ask for a
  person: ``bot → waiting``;
* ``CLAIM`` — an agent takes it, or round-robin assigns it: ``waiting → human``;
* ``TRANSFER`` — to another agent: ``human → human``;
* ``RESOLVE`` — the agent is done: ``human → resolved`` (also from ``waiting``,
  for a request nobody needs to answer);
* the contact's next message opens a new conversation in ``bot``.

Anything else raises :class:`InvalidTransitionError` (HTTP 409 ``invalid_transition``).
The bot answers only in ``bot``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

from kindbot.errors import KindbotError
from kindbot.records import ConversationState
from kindbot.records_handoff import AgentRecord

RATINGS = frozenset("12345")
SATISFACTION_ZH = "这次服务您满意吗？回复 1-5（5 为非常满意）"
SATISFACTION_EN = "Were you happy with our help? Reply 1-5 (5 = very happy)."


class HandoffAction(StrEnum):
    """What moves a conversation between states."""

    REQUEST = "request"
    CLAIM = "claim"
    TRANSFER = "transfer"
    RESOLVE = "resolve"


class InvalidTransitionError(KindbotError):
    """The action does not apply to the conversation's current state."""

    code = "invalid_transition"
    http_status = 409


_MOVES: dict[tuple[ConversationState, HandoffAction], ConversationState] = {
    (ConversationState.BOT, HandoffAction.REQUEST): ConversationState.WAITING,
    (ConversationState.WAITING, HandoffAction.CLAIM): ConversationState.HUMAN,
    (ConversationState.HUMAN, HandoffAction.TRANSFER): ConversationState.HUMAN,
    (ConversationState.WAITING, HandoffAction.RESOLVE): ConversationState.RESOLVED,
    (ConversationState.HUMAN, HandoffAction.RESOLVE): ConversationState.RESOLVED,
}


def transition(state: ConversationState, action: HandoffAction) -> ConversationState:
    """The state after ``action``; :class:`InvalidTransitionError` when it does not apply."""
    after = _MOVES.get((state, action))
    if after is None:
        raise InvalidTransitionError(f"cannot {action.value} a conversation in state {state.value}")
    return after


def bot_answers(state: ConversationState) -> bool:
    """Whether the dialogue may propose replies: only while the bot has the conversation."""
    return state is ConversationState.BOT


_NEVER = datetime.min.replace(tzinfo=UTC)


def pick_agent(agents: Sequence[AgentRecord]) -> AgentRecord | None:
    """Round-robin: the online agent assigned least recently (never first); None if none online.

    Ties go to the agent created first, then by id, so the choice is deterministic.
    """
    online = [a for a in agents if a.online]
    if not online:
        return None
    return min(online, key=lambda a: (a.last_assigned_at or _NEVER, a.created_at, a.id))


def parse_rating(text: str) -> int | None:
    """A 1–5 satisfaction rating (ASCII or full-width digit, surrounding blanks ignored)."""
    stripped = text.strip().translate(_FULL_WIDTH)
    return int(stripped) if stripped in RATINGS else None


_FULL_WIDTH = str.maketrans("１２３４５", "12345")


def satisfaction_question(language: str) -> str:
    """The question sent after resolve, in the tenant's language (Chinese unless ``en…``)."""
    return SATISFACTION_EN if language.startswith("en") else SATISFACTION_ZH
