"""A stand-in for WeChat's token and customer-service API (and a webhook receiver) that
counts what each customer received, outside kindbot (so the count survives a kill)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Customers:
    """Everything the customers received, counted per user outside kindbot.

    ``texts`` counts the customer-service API's messages per (user, text).
    """

    passive: Counter[str] = field(default_factory=Counter)
    service_api: Counter[str] = field(default_factory=Counter)
    response: Counter[str] = field(default_factory=Counter)
    outgoing: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    texts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def answered(self, channel: str) -> None:
        self.answers[channel] += 1

    def oa(self, user: str) -> int:
        return self.passive[user] + self.service_api[user]

    def hook(self, user: str) -> int:
        return self.response[user] + self.outgoing[user]


def platform(customers: Customers, token: str = "platform-access-token") -> Starlette:
    """WeChat's token and customer-service endpoints, and the webhook's receiver."""

    async def access_token(_: Request) -> JSONResponse:
        return JSONResponse({"access_token": token, "expires_in": 7200})

    async def custom_send(request: Request) -> JSONResponse:
        sent = await request.json()
        customers.service_api[sent["touser"]] += 1
        customers.texts[(sent["touser"], sent.get("text", {}).get("content", ""))] += 1
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def outgoing(request: Request) -> JSONResponse:
        customers.outgoing[json.loads(await request.body())["user"]] += 1
        return JSONResponse({})

    return Starlette(
        routes=[
            Route("/cgi-bin/stable_token", access_token, methods=["POST"]),
            Route("/cgi-bin/message/custom/send", custom_send, methods=["POST"]),
            Route("/hook", outgoing, methods=["POST"]),
        ]
    )
