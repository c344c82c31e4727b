"""Loading tenants' handler modules (the bundle's ``handlers:``), once per process.

A handler module is operator-installed Python on the server's import path
that defines ``bot = kindbot.dialogue.handlers.Bot()``. Bundles only name
modules; nothing is ever imported from a bundle's directory or uploaded.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Sequence

from kindbot.core.errors import KindbotError
from kindbot.core.events import InboundKind
from kindbot.core.records.conversations import MessageRecord
from kindbot.dialogue.handlers import NO_ANSWER, Bot, HandlerResult, Message, run_handlers
from kindbot.pipeline.receive.turn import Turn

log = logging.getLogger(__name__)


class HandlerModuleError(KindbotError):
    """A named handler module cannot be imported or defines no ``bot``."""

    code = "invalid_handler_module"


def load_bot(module: str) -> Bot:
    """Import ``module`` and return its ``bot``; :class:`HandlerModuleError` otherwise."""
    try:
        loaded = importlib.import_module(module)
    except Exception as exc:  # any failure of the tenant's code is reported, not raised
        raise HandlerModuleError(
            f"cannot import handler module {module!r}: {type(exc).__name__}: {exc}"
        ) from exc
    bot = getattr(loaded, "bot", None)
    if not isinstance(bot, Bot):
        raise HandlerModuleError(
            f"handler module {module!r} must define bot = kindbot.dialogue.handlers.Bot()"
        )
    return bot


class HandlerModules:
    """The bots of handler modules, imported on first use (in a worker thread)."""

    def __init__(self) -> None:
        self._bots: dict[str, Bot] = {}

    async def bots(self, modules: Sequence[str]) -> tuple[Bot, ...]:
        """The ``bot`` of each module, in order; :class:`HandlerModuleError` if one fails."""
        found = []
        for module in modules:
            bot = self._bots.get(module)
            if bot is None:
                bot = self._bots[module] = await asyncio.to_thread(load_bot, module)
            found.append(bot)
        return tuple(found)

    async def answer(self, message: MessageRecord, turn: Turn) -> HandlerResult:
        """What the tenant's handler modules make of a text message (logged when one fails)."""
        if not turn.tenant.handlers or message.kind != InboundKind.TEXT.value:
            return NO_ANSWER
        try:
            bots = await self.bots(turn.tenant.handlers)
        except HandlerModuleError as exc:
            handled = HandlerResult(error=exc.message)
        else:
            handled = run_handlers(bots, _handler_message(message, turn))
        if handled.error is not None:
            log.error(
                "tenant %s: handler %s failed: %s",
                turn.tenant.slug,
                handled.handler,
                handled.error,
            )
        return handled


def _handler_message(message: MessageRecord, turn: Turn) -> Message:
    return Message(
        text=message.text,
        tenant=turn.tenant.slug,
        channel_kind=turn.channel.kind,
        contact=turn.contact.external_id,
        prefer_chinese=turn.prefer_chinese,
    )
