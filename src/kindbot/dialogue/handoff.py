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
The bot answers fully only in ``bot``; while a person is awaited (``waiting``:
nobody was online) it goes on answering knowledge questions
(:func:`bot_assists`), and the customer was told honestly that nobody is
there yet and when someone will be (:func:`nobody_available`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

from kindbot.core.errors import KindbotError
from kindbot.core.lang import pick
from kindbot.core.records.conversations import ConversationState
from kindbot.core.records.handoff import AgentRecord

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


def bot_assists(state: ConversationState) -> bool:
    """Whether the bot still answers knowledge questions: while a person is awaited."""
    return state is ConversationState.WAITING


NOBODY_ZH = "抱歉，现在没有人工客服在线。"
NOBODY_EN = "Sorry, nobody from our team is available right now."
SOON_ZH = "客服一上线就会尽快回复您。"
SOON_EN = "We'll get back to you as soon as someone is online."
MEANWHILE_ZH = "在此期间我会继续回答您的问题，客服上线后会在这里回复您。"
MEANWHILE_EN = (
    "Meanwhile I'll keep answering your questions here, and a person will reply in this chat."
)
_WEEKDAYS_ZH = "一二三四五六日"


def nobody_available(
    text: str, *, prefer_chinese: bool, opening: datetime | None, now: datetime
) -> str:
    """The honest answer to a request for a person when no agent is online.

    In the language of the customer's ``text``: nobody is there now; when
    someone will be (``opening``, the next start of the service hours in
    their zone — none when unknown or already open); the bot keeps answering.
    """
    if opening is not None and opening > now:
        zone = str(opening.tzinfo)
        clock = f"{opening:%H:%M}"
        when_zh = (
            f"客服将于 {opening.month}月{opening.day}日（周{_WEEKDAYS_ZH[opening.weekday()]}）"
            f"{clock}（{zone}）上线。"
        )
        when_en = (
            f"Our team is back on {opening:%a} {opening.day} {opening:%b} at {clock} ({zone})."
        )
    else:
        when_zh, when_en = SOON_ZH, SOON_EN
    zh = f"{NOBODY_ZH}{when_zh}{MEANWHILE_ZH}"
    en = f"{NOBODY_EN} {when_en} {MEANWHILE_EN}"
    return pick(text, zh, en, default_zh=prefer_chinese)


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
