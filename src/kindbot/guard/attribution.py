"""Who a denial is charged to: the tenant's violation score measures what the *tenant* tried.

A violation counts what the tenant chose to do — its proactive sends and
broadcasts, its agents' messages, and the words it put in the bot's mouth
(knowledge answers, welcomes, the output of handlers, flows and the model it
configured). It never counts what a customer's behaviour made the bot
decline: a visitor who writes 60 times a minute makes the reply-rate rule
refuse the 11th reply, and that refusal stays a refusal (audited like every
decision) but is not the shop's fault; the visitor is throttled as a visitor.

The rule, as one pure function (:func:`charged_to_tenant`):

========================  ===========================================  ==========
who initiated the send    denying rule                                 charged?
========================  ===========================================  ==========
the tenant (proactive,    any rule with a severity                     yes
broadcast, an agent, an
inbox action)
a customer's message      ``content``, offending text the tenant's     yes
(a reply to it)
a customer's message      ``content``, offending text only what the    no
                          customer typed (echoed by a flow template,
                          a handler or the model)
a customer's message      every other rule (``reply_burst``,           no
                          ``window``, ``tenant_status``, ``group`` …):
                          they refuse because of the customer's pace
                          or the tenant's state, not its words
========================  ===========================================  ==========

Inbound verdicts (opt-out keywords, bot loops, moderation findings on what
a customer wrote) are never charged: they judge the customer's message.

"Only what the customer typed" is decided by screening the reply again with
the customer's words blanked out (:func:`customer_spans`,
:func:`without_spans`), and only for origins that can echo
(:data:`ECHOING_ORIGINS`). The leniency this allows — a handler's own
prohibited word goes uncharged when the same customer typed that word too —
is bounded: the reply is still refused, and the tenant cannot make
strangers type it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from kindbot.core.events import ReplyOrigin, SendKind
from kindbot.core.screening import ScreeningMatch

CONTENT_RULE = "content"
"""The only rule that judges the words of a reply, and so the only one a reply is charged by."""

ECHOING_ORIGINS = frozenset({ReplyOrigin.FLOW, ReplyOrigin.HANDLER, ReplyOrigin.GENERATED})
"""Origins whose text may repeat what the customer typed (slot values, the message itself).

Knowledge answers, system texts and fallbacks are fixed text: whatever they
contain, the tenant (or the platform) wrote it.
"""

MIN_ECHO = 2
"""Customer fragments shorter than this are not looked for (one character is no echo)."""


class Initiator(StrEnum):
    """Who made the bot try to send."""

    TENANT = "tenant"
    """Proactive sends and broadcasts, an agent's message, an inbox action's question."""
    CUSTOMER = "customer"
    """A reply to a customer's inbound message or platform event."""


def initiator(kind: SendKind, origin: ReplyOrigin, *, answers_inbound: bool) -> Initiator:
    """Who initiated a send of ``kind`` with a reply of ``origin``.

    ``answers_inbound``: the send replies to a stored inbound message. An
    agent's message is the tenant's even inside a conversation.
    """
    if kind is SendKind.PROACTIVE or origin is ReplyOrigin.AGENT or not answers_inbound:
        return Initiator.TENANT
    return Initiator.CUSTOMER


def charged_to_tenant(rule: str, who: Initiator, *, echo_only: bool = False) -> bool:
    """Whether a denial by ``rule`` (with a severity) counts towards the tenant's score.

    ``echo_only``: moderation blocked the reply only because of text the
    customer supplied (see :func:`customer_spans`); the tenant's own part
    passes on its own. Only meaningful for ``content`` denials of replies.
    """
    if who is Initiator.TENANT:
        return True
    return rule == CONTENT_RULE and not echo_only


def customer_spans(
    text: str, fragments: Sequence[str], matches: Sequence[ScreeningMatch] = ()
) -> tuple[tuple[int, int], ...]:
    """Where in ``text`` the customer's words occur.

    ``fragments`` are what the customer typed (their message, slot values):
    every occurrence of each (at least :data:`MIN_ECHO` characters) counts,
    and so does each of moderation's ``matches`` (offsets into ``text``)
    whose excerpt the customer typed too — a handler may repeat only part of
    a message. Sorted ``(start, end)`` offsets, overlaps merged.
    """
    found: list[tuple[int, int]] = []
    for fragment in {f.strip() for f in fragments}:
        if len(fragment) < MIN_ECHO:
            continue
        start = text.find(fragment)
        while start >= 0:
            found.append((start, start + len(fragment)))
            start = text.find(fragment, start + 1)
    for match in matches:
        excerpt = match.excerpt.strip()
        if len(excerpt) >= MIN_ECHO and any(excerpt in fragment for fragment in fragments):
            found.append((match.start, match.end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def without_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with each span blanked out (same length, so offsets stay meaningful)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)
