"""Turning one inbound message into proposed replies (pure).

Order: an explicit request for a person hands off; a number answering the
bot's last clarification picks that entry; otherwise the knowledge base
answers when its best match clears the tenant's threshold. Below it the bot
never presents a guess as an answer: it offers the likely questions as
numbered choices (:mod:`kindbot.dialogue.clarify`), or says it is not sure
and offers a person; after two unresolved turns in a row it hands off.
Either way the outcome carries the best :data:`CANDIDATES` matches, so a
later step (a clarification question, the agent inbox) can offer them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kindbot.core.events import InboundKind, OutboundReply, ReplyOrigin
from kindbot.core.lang import pick
from kindbot.dialogue.clarify import (
    MAX_UNRESOLVED_TURNS,
    chosen_question,
    clarification,
    decide,
    offer,
    unresolved_streak,
)
from kindbot.dialogue.handlers import NO_ANSWER, HandlerResult
from kindbot.dialogue.retrieval import KnowledgeIndex, Match

HANDOFF_WORDS = frozenset(
    {"人工", "转人工", "人工客服", "真人", "客服", "找客服", "human", "agent", "a human", "person"}
)

HANDOFF_ZH = "好的，已为您转接人工客服，请稍候，工作人员会尽快回复您。"
HANDOFF_EN = "Sure — I have asked a member of our team to take over. They will reply here soon."
UNSURE_ZH = (
    "抱歉，这个问题我不太确定，不想给您错误的答案。"
    "您可以换个说法再问一次，或回复“人工”联系真人客服。"
)
UNSURE_EN = (
    "Sorry, I am not sure about that and would rather not guess. "
    "You can rephrase your question, or reply 'human' to reach a person."
)
NON_TEXT_ZH = "我目前只能看懂文字消息，请用文字描述您的问题，或回复“人工”联系真人客服。"
NON_TEXT_EN = (
    "I can only read text for now. Please describe your question in words, or reply 'human'."
)


CANDIDATES = 3
"""How many knowledge-base candidates a text outcome carries."""


@dataclass(frozen=True, slots=True)
class DialogueOutcome:
    """Replies to propose, and whether the conversation should go to a person.

    ``candidates``: the best knowledge-base matches of the message, most
    confident first (at most :data:`CANDIDATES`; empty when the knowledge base
    was not asked). ``unanswered``: the knowledge base was asked and no match
    cleared the threshold (the reply is the honest fallback). ``asked``: the
    message was searched in the knowledge base as a question — false for a
    person request, a clarification pick, a handler's answer, a non-text
    message (and, upstream, for flow answers and opt-out words, which never
    reach :func:`respond`); ``kindbot kb unanswered`` looks only at those.
    """

    replies: tuple[OutboundReply, ...]
    handoff: bool = False
    candidates: tuple[Match, ...] = ()
    unanswered: bool = False
    handler_error: str | None = None
    asked: bool = False


def _canonical(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip(" \t\r\n.!?。！？")


def wants_person(text: str) -> bool:
    """True when the whole message asks for a person (人工, 转人工, human, …)."""
    return _canonical(text) in HANDOFF_WORDS


def respond(
    kind: InboundKind,
    text: str,
    index: KnowledgeIndex,
    *,
    threshold: float,
    prefer_chinese: bool,
    recent_bot_texts: Sequence[str] = (),
    handled: HandlerResult = NO_ANSWER,
) -> DialogueOutcome:
    """Propose the replies to one inbound message.

    ``recent_bot_texts`` are the bot's latest messages in the conversation,
    most recent first (a pending clarification, the unresolved streak).
    ``handled`` is what the tenant's handlers made of the message
    (:func:`kindbot.dialogue.handlers.run_handlers`): their replies come
    before the knowledge base; a handler that raised gets the fallback.
    """
    if kind is not InboundKind.TEXT:
        return DialogueOutcome(
            (
                OutboundReply(
                    pick(text, NON_TEXT_ZH, NON_TEXT_EN, default_zh=prefer_chinese),
                    ReplyOrigin.FALLBACK,
                ),
            )
        )
    if wants_person(text):
        return _hand_off(text, prefer_chinese)
    chosen = chosen_question(text, recent_bot_texts)
    picked = index.by_question(chosen) if chosen is not None else None
    if picked is not None:
        return DialogueOutcome((_answer(picked),), candidates=(picked,))
    if handled.replies:
        return DialogueOutcome(
            tuple(OutboundReply(r, ReplyOrigin.HANDLER) for r in handled.replies)
        )
    if handled.error is not None:
        unsure = pick(text, UNSURE_ZH, UNSURE_EN, default_zh=prefer_chinese)
        reply = OutboundReply(unsure, ReplyOrigin.FALLBACK)
        return DialogueOutcome((reply,), unanswered=True, handler_error=handled.error)
    found = index.search(text, limit=CANDIDATES)
    if decide(found, threshold) == "answer":
        return DialogueOutcome((_answer(found[0]),), candidates=found, asked=True)
    if unresolved_streak(recent_bot_texts) + 1 >= MAX_UNRESOLVED_TURNS:
        handoff = _hand_off(text, prefer_chinese)
        return replace(handoff, candidates=found, unanswered=True, asked=True)
    choices = offer(found)
    if choices:
        chinese = pick(text, "zh", "en", default_zh=prefer_chinese) == "zh"
        question = clarification(choices, chinese=chinese)
        reply = OutboundReply(question, ReplyOrigin.FALLBACK)
        return DialogueOutcome((reply,), candidates=found, unanswered=True, asked=True)
    unsure = pick(text, UNSURE_ZH, UNSURE_EN, default_zh=prefer_chinese)
    return DialogueOutcome(
        (OutboundReply(unsure, ReplyOrigin.FALLBACK),),
        candidates=found,
        unanswered=True,
        asked=True,
    )


def _answer(match: Match) -> OutboundReply:
    return OutboundReply(match.answer, ReplyOrigin.KNOWLEDGE, match.entry_id, match.score)


def _hand_off(text: str, prefer_chinese: bool) -> DialogueOutcome:
    reply = pick(text, HANDOFF_ZH, HANDOFF_EN, default_zh=prefer_chinese)
    return DialogueOutcome((OutboundReply(reply, ReplyOrigin.SYSTEM),), handoff=True)
