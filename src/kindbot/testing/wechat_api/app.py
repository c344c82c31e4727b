"""The ASGI application of a simulator: API routes, control routes, JSON 404/405."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from kindbot.testing.wechat_api.routes_api import api_routes
from kindbot.testing.wechat_api.routes_control import (
    NOT_ALLOWED,
    NOT_FOUND,
    control_error,
    control_routes,
)

if TYPE_CHECKING:
    from kindbot.testing.wechat_api.simulator import WeChatSimulator


async def _http_error(request: Request, exc: Exception) -> Response:
    """JSON answers for unknown routes (404) and wrong methods (405)."""
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        response = control_error(
            405, NOT_ALLOWED, f"method {request.method} not allowed on {request.url.path}"
        )
        response.headers.update(exc.headers or {})
        return response
    return control_error(404, NOT_FOUND, f"no route {request.url.path}")


def create_app(simulator: WeChatSimulator) -> Starlette:
    """A Starlette app serving ``simulator``.

    Lifespan: startup lets ``Fault.TIMEOUT`` stall requests again; shutdown
    calls ``simulator.aclose()`` so stalled requests end with 503. (uvicorn
    drains open connections *before* the lifespan shutdown, so a server
    wrapper should call ``aclose()`` itself when it starts shutting down.)
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        simulator.state.stalls.reopen()
        try:
            yield
        finally:
            await simulator.aclose()

    return Starlette(
        routes=[*api_routes(simulator.state), *control_routes(simulator)],
        exception_handlers={404: _http_error, 405: _http_error},
        lifespan=lifespan,
    )
