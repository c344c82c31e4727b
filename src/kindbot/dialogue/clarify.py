"""Clarification: when unsure, offer the best candidates as numbered choices (pure).

The bot's own last message is the state: a clarification lists its choices
as ``1. question`` lines between a fixed head and tail, so a reply of ``2``
is resolved against the text the customer actually saw — no hidden state,
and a knowledge-base edit in between cannot make ``2`` mean something else.
Unresolved turns are counted the same way, from the bot's recent messages.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from kindbot.choices import choice_message, numbered_choices
from kindbot.dialogue.retrieval import Match

CLARIFY_FLOOR = 0.12
"""Candidates less confident than this are not worth offering."""

MAX_UNRESOLVED_TURNS = 2
"""After this many unresolved turns in a row the conversation goes to a person."""

UNSURE_MARKS = ("抱歉，这个问题我不太确定", "Sorry, I am not sure about that")
"""How the honest fallback (:mod:`kindbot.dialogue.responder`) begins."""


def offer(candidates: Sequence[Match]) -> tuple[Match, ...]:
    """The candidates worth offering as choices (most confident first)."""
    return tuple(match for match in candidates if match.score >= CLARIFY_FLOOR)


def clarification(choices: Sequence[Match], *, chinese: bool) -> str:
    """The clarification message listing ``choices`` as numbered lines."""
    return choice_message([match.question for match in choices], chinese=chinese)


def offered_questions(bot_text: str) -> tuple[str, ...]:
    """The questions a clarification offered, in order; () for any other message."""
    return numbered_choices(bot_text)


def chosen_question(text: str, recent_bot_texts: Sequence[str]) -> str | None:
    """The question a reply like ``2`` (or ``２``) picks from the bot's last clarification."""
    if not recent_bot_texts:
        return None
    answer = unicodedata.normalize("NFKC", text).strip(" \t\r\n.。")
    if not answer.isdigit():
        return None
    questions = offered_questions(recent_bot_texts[0])
    number = int(answer)
    return questions[number - 1] if 1 <= number <= len(questions) else None


def unresolved_streak(recent_bot_texts: Sequence[str]) -> int:
    """How many of the bot's latest messages (most recent first) left the question open."""
    streak = 0
    for text in recent_bot_texts:
        if not (offered_questions(text) or text.startswith(UNSURE_MARKS)):
            break
        streak += 1
    return streak
