"""A tenant's order-status API, served for real on 127.0.0.1 (flows call it over HTTP).

``GET /orders?order=…`` answers by order number: ``ERR500…`` → 500,
``SLOW…`` → answers after :data:`SLOW_S` (longer than the test endpoint's
timeout), ``BIG…`` → a 100 KiB body, ``MOVED…`` → a redirect, ``LIST…`` → a
JSON list; anything else → a JSON object with nested fields.
``POST /callbacks`` echoes an id. Every request is recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support.live import serve_app

SLOW_S = 1.5


@dataclass
class ShopApi:
    """The served API's base URL and what it received (query or JSON fields per request)."""

    url: str
    received: list[dict[str, str]] = field(default_factory=list)


def _app(api: ShopApi) -> Starlette:
    async def orders(request: Request) -> Response:
        query = dict(request.query_params)
        api.received.append({**query, "_auth": request.headers.get("authorization", "")})
        order = query.get("order", "")
        if order.startswith("ERR500"):
            return JSONResponse({"error": "boom"}, status_code=500)
        if order.startswith("SLOW"):
            await asyncio.sleep(SLOW_S)
        if order.startswith("BIG"):
            return JSONResponse({"status": "x" * 100_000})
        if order.startswith("MOVED"):
            return RedirectResponse("http://169.254.169.254/latest/meta-data/")
        if order.startswith("LIST"):
            return JSONResponse(["not", "an", "object"])
        return JSONResponse(
            {"status": "已发货", "eta": "12月1日", "carrier": {"name": "顺丰"}, "note": None}
        )

    async def callbacks(request: Request) -> Response:
        body = await request.json()
        api.received.append({str(k): str(v) for k, v in body.items()})
        return JSONResponse({"ticket": "CB-7"})

    return Starlette(
        routes=[Route("/orders", orders), Route("/callbacks", callbacks, methods=["POST"])]
    )


@asynccontextmanager
async def shop_api() -> AsyncIterator[ShopApi]:
    """Serve the API on a free loopback port for the duration of the block."""
    api = ShopApi(url="")
    async with serve_app(_app(api)) as url:
        api.url = url
        yield api


def order_bundle(api_url: str, *, timeout_seconds: float = 0.5) -> str:
    """A tenant ``shop`` with a web chat and the 查订单 and callback flows against ``api_url``."""
    return f"""
tenant: {{slug: shop, name: 小店, industry: retail}}
channels:
  - {{id: web, type: webchat}}
endpoints:
  orders:
    url: {api_url}/orders
    headers: {{Authorization: Bearer shop-secret-token}}
    timeout_seconds: {timeout_seconds}
  crm:
    url: {api_url}/callbacks
    method: POST
flows:
  - name: order-status
    trigger: {{keywords: [查订单, where is my order]}}
    start: ask_order
    states:
      ask_order:
        prompt: {{zh: 请告诉我订单号。, en: "What is your order number?"}}
        slot: {{name: order, type: order_number}}
        call: {{endpoint: orders, then: tell, on_error: sorry}}
      tell:
        answer:
          zh: "订单 {{order}}：{{response.status}}，{{response.carrier.name}}，\\
            预计 {{response.eta}}。"
          en: "Order {{order}}: {{response.status}}."
      sorry:
        answer: 抱歉，暂时查不到订单 {{order}}，请稍后再试或回复“人工”。
  - name: callback
    trigger: {{keywords: [回电]}}
    start: ask_phone
    states:
      ask_phone:
        prompt: 请留下手机号。
        slot: {{name: phone, type: phone}}
        call: {{endpoint: crm, then: booked}}
      booked:
        answer: 已登记，工单号 {{response.ticket}}。
"""
