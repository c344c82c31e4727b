"""A response that hands replies over: confirmed only after it was sent.

The replies in a callback's response body (a WeChat passive reply, the
webhook's JSON replies) are claimed for the request (``handed_over``) before
the response is built. :class:`HandoverResponse` settles the claim at the ASGI
edge: once the server accepted the last byte of the body it confirms the
replies as delivered; when the caller is already gone (or sending fails) it
gives them back to the outbox worker. Both only queue the settlement for the
group-commit writer (:mod:`kindbot.pipeline.handover.settlements`): the
response never waits for its transaction. A process that dies in between
settles nothing: the claim's lease runs out, and a retry of the request or
the outbox worker hands the reply over (see :mod:`kindbot.pipeline.handover.passive`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from kindbot.core.events import Handover
from kindbot.pipeline.handover.settlements import SettlementWriter


class HandoverResponse(Response):
    """``inner``'s status, headers and body; settles ``handover`` through ``settlements``."""

    def __init__(self, inner: Response, settlements: SettlementWriter, handover: Handover) -> None:
        super().__init__(content=inner.body, status_code=inner.status_code)
        self.raw_headers = list(inner.raw_headers)
        self._settlements = settlements
        self._handover = handover

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await Request(scope, receive).is_disconnected():
            await self._settlements.give_back(self._handover)
            return
        try:
            await super().__call__(scope, receive, send)
        except Exception:
            await self._settlements.give_back(self._handover)
            raise
        await self._settlements.confirm(self._handover)
