"""The developer handler API: a tenant's own Python answers, ahead of the knowledge base.

A handler module (named in the bundle's ``handlers:`` list, importable on the
server) defines ``bot = Bot()`` and registers handlers::

    from kindbot.dialogue.handlers import Bot, Message

    bot = Bot()

    @bot.on_message(contains="价格")
    def price(message: Message) -> str:
        return "价格请看商品页；会员另有 95 折。"

Contracts: filters are pure and synchronous (``contains``, ``equals``,
``regex``, or a ``when`` predicate); handlers run in registration order (or
by ``order=``, lower first) and the first that returns something answers;
handlers *return* replies (a string, several strings, or ``None`` to pass) —
they never send, so everything they say still passes the guard. A handler
that raises is reported in the outcome and the customer gets the fallback,
never silence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

MAX_REPLIES = 3
"""A handler's replies beyond this are dropped (the guard allows 3 per message anyway)."""


@dataclass(frozen=True, slots=True)
class Message:
    """What a handler sees of one inbound text message."""

    text: str
    tenant: str
    channel_kind: str
    contact: str
    prefer_chinese: bool


Reply = str | Sequence[str] | None
Predicate = Callable[[Message], bool]
HandlerFunction = Callable[[Message], Reply]


@dataclass(frozen=True, slots=True)
class Handler:
    """One registered handler and the filter that selects it."""

    name: str
    function: HandlerFunction
    matches: Predicate
    order: int


@dataclass(frozen=True, slots=True)
class HandlerResult:
    """The first answering handler's replies, or the name of one that raised (else empty)."""

    replies: tuple[str, ...] = ()
    handler: str | None = None
    error: str | None = None


NO_ANSWER = HandlerResult()


@dataclass(slots=True)
class Bot:
    """A registry of message handlers (one per handler module, named ``bot``)."""

    handlers: list[Handler] = field(default_factory=list)

    def on_message(
        self,
        *,
        contains: str | None = None,
        equals: str | None = None,
        regex: str | None = None,
        when: Predicate | None = None,
        order: int | None = None,
    ) -> Callable[[HandlerFunction], HandlerFunction]:
        """Register the decorated function for messages passing every given filter.

        ``contains``/``equals`` compare case-insensitively; ``regex`` is searched.
        Raises ``ValueError`` when no filter is given (use ``when=lambda m: True``
        for a catch-all, deliberately).
        """
        if contains is None and equals is None and regex is None and when is None:
            raise ValueError("give at least one filter: contains, equals, regex or when")
        checks = _filters(contains, equals, regex, when)

        def register(function: HandlerFunction) -> HandlerFunction:
            position = order if order is not None else len(self.handlers)
            name = f"{function.__module__}.{function.__qualname__}"
            matches = _all_of(checks)
            self.handlers.append(Handler(name, function, matches, position))
            self.handlers.sort(key=lambda handler: handler.order)
            return function

        return register


def _filters(
    contains: str | None, equals: str | None, regex: str | None, when: Predicate | None
) -> list[Predicate]:
    checks: list[Predicate] = []
    if contains is not None:
        needle = contains.casefold()
        checks.append(lambda message: needle in message.text.casefold())
    if equals is not None:
        wanted = equals.strip().casefold()
        checks.append(lambda message: message.text.strip().casefold() == wanted)
    if regex is not None:
        pattern = re.compile(regex)
        checks.append(lambda message: pattern.search(message.text) is not None)
    if when is not None:
        checks.append(when)
    return checks


def _all_of(checks: list[Predicate]) -> Predicate:
    return lambda message: all(check(message) for check in checks)


def run_handlers(bots: Sequence[Bot], message: Message) -> HandlerResult:
    """Ask each bot's handlers in order; the first non-empty answer wins.

    An exception in a filter or a handler stops the search and is returned as
    ``error`` (the caller logs it and answers with its fallback).
    """
    for bot in bots:
        for handler in bot.handlers:
            try:
                if not handler.matches(message):
                    continue
                replies = _as_replies(handler.function(message))
            except Exception as exc:  # a tenant's code must never silence the bot
                return HandlerResult(handler=handler.name, error=f"{type(exc).__name__}: {exc}")
            if replies:
                return HandlerResult(replies=replies, handler=handler.name)
    return NO_ANSWER


def _as_replies(answer: Reply) -> tuple[str, ...]:
    if answer is None:
        return ()
    if isinstance(answer, str):
        texts: Sequence[str] = (answer,)
    else:
        texts = answer
    if not all(isinstance(text, str) for text in texts):
        raise TypeError("a handler returns a string, several strings, or None")
    return tuple(text for text in texts if text.strip())[:MAX_REPLIES]
