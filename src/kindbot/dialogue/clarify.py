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
from typing import Literal

from kindbot.core.choices import choice_message, numbered_choices
from kindbot.dialogue.retrieval import Match

CLARIFY_FLOOR = 0.12
"""Candidates less confident than this are not worth offering."""

CLOSE_MARGIN = 0.1
"""Two candidates whose confidences are closer than this are a coin toss: on the
four shop FAQs of ``bench/data`` the first was right in about half of such
cases above the threshold, so the bot asks which one is meant instead."""

MAX_UNRESOLVED_TURNS = 2
"""After this many unresolved turns in a row the conversation goes to a person."""

UNSURE_MARKS = ("抱歉，这个问题我不太确定", "Sorry, I am not sure about that")
"""How the honest fallback (:mod:`kindbot.dialogue.responder`) begins."""


def offer(candidates: Sequence[Match]) -> tuple[Match, ...]:
    """The candidates worth offering as choices (most confident first)."""
    return tuple(match for match in candidates if match.score >= CLARIFY_FLOOR)


def too_close(candidates: Sequence[Match], threshold: float) -> bool:
    """Whether the best candidate clears ``threshold`` but the runner-up is within
    :data:`CLOSE_MARGIN` of it (most confident first): ask, don't guess."""
    if len(candidates) < 2 or candidates[0].score < threshold:
        return False
    return candidates[0].score - candidates[1].score < CLOSE_MARGIN


Decision = Literal["answer", "clarify", "fallback"]


def decide(candidates: Sequence[Match], threshold: float) -> Decision:
    """``answer`` (the best candidate is sure enough and clear), ``clarify`` (offer
    the candidates worth offering as numbered choices) or ``fallback``."""
    if too_close(candidates, threshold):
        return "clarify"
    if candidates and candidates[0].score >= threshold:
        return "answer"
    return "clarify" if offer(candidates) else "fallback"


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
