"""Rate limits applied to requests and WebSockets.

The limits themselves: :mod:`kindbot.pipeline.receive.rate_limits`.

A request over a limit is 429 ``rate_limited`` with ``Retry-After``; on a
WebSocket an error frame (on a message) or an error frame and a close with
code 1008 (on connect).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from starlette.requests import HTTPConnection

from kindbot.channels import webchat
from kindbot.channels.registry import channel_kind
from kindbot.core.errors import NotFoundError
from kindbot.core.ports.seams import Store
from kindbot.pipeline.directory import ResolvedChannel
from kindbot.pipeline.receive.rate_limits import (
    POLICY_VIOLATION,
    UNKNOWN_ADDRESS,
    RateLimitedError,
    RateLimiter,
)

__all__ = ["WebchatMessageLimit", "install_rate_limit_handler", "limit_callback", "source_address"]


def source_address(connection: HTTPConnection) -> str:
    """The caller's address (the ASGI client host; proxies: see the module docstring)."""
    client = connection.client
    return client.host if client is not None and client.host else UNKNOWN_ADDRESS


def _limiter(connection: HTTPConnection) -> RateLimiter:
    limiter = connection.app.state.container.rate_limiter
    assert isinstance(limiter, RateLimiter)
    return limiter


async def _new_visitor(store: Store, channel: ResolvedChannel, visitor: str) -> bool:
    async with store.transaction(readonly=True) as tx:
        return await tx.contacts.find(channel.channel.id, visitor) is None


async def limit_chat_message(channel_id: str, request: Request) -> None:
    """Dependency of the web chat's POST: address, visitor and new-visitor limits."""
    limiter = _limiter(request)
    address = source_address(request)
    await limiter.hit("webchat_address", address)
    visitor = request.cookies.get(webchat.VISITOR_COOKIE)
    if not webchat.valid_visitor_id(visitor) or visitor is None:
        return
    await limiter.hit("webchat_visitor", channel_id, visitor)
    if limiter.limits.get("webchat_new_visitor") is None:
        return
    container = request.app.state.container
    resolved = await container.directory.by_public_id(channel_id)
    if await _new_visitor(container.store, resolved, visitor):
        await limiter.hit("webchat_new_visitor", address)


WebchatMessageLimit = Annotated[None, Depends(limit_chat_message)]


async def admit_socket(websocket: WebSocket, channel: ResolvedChannel, visitor: str) -> bool:
    """Count a WebSocket connection; over a limit, accept, send the error and close (False)."""
    limiter = _limiter(websocket)
    address = source_address(websocket)
    try:
        await limiter.hit("webchat_connect", address)
        if limiter.limits.get("webchat_new_visitor") is not None and await _new_visitor(
            websocket.app.state.container.store, channel, visitor
        ):
            await limiter.hit("webchat_new_visitor", address)
    except RateLimitedError as exc:
        await websocket.accept()
        await websocket.send_json(_error_frame(exc))
        await websocket.close(code=POLICY_VIOLATION, reason=RateLimitedError.code)
        return False
    return True


async def limit_socket_frame(websocket: WebSocket, channel_id: str, visitor: str) -> None:
    """Count one message frame (address and visitor limits); :class:`RateLimitedError` over one."""
    limiter = _limiter(websocket)
    await limiter.hit("webchat_address", source_address(websocket))
    await limiter.hit("webchat_visitor", channel_id, visitor)


async def limit_callback(request: Request, channel: ResolvedChannel) -> None:
    """Count one platform callback per channel and source address against the limit
    its kind names (:attr:`kindbot.channels.registry.ChannelKind.callback_limit`).

    Only for kinds that take callbacks (the route answers 404 for the others first).
    """
    limit = channel_kind(channel.channel.kind).callback_limit
    if limit is None:
        raise NotFoundError(
            f"channel {channel.channel.public_id!r} does not take callbacks",
            code="unknown_channel",
        )
    await _limiter(request).hit(limit, channel.channel.public_id, source_address(request))


def _error_frame(exc: RateLimitedError) -> dict[str, object]:
    return {
        "type": "error",
        "code": exc.code,
        "message": exc.message,
        "retry_after": exc.retry_after,
    }


def install_rate_limit_handler(app: FastAPI, rejected: Counter) -> None:
    """429 ``rate_limited`` responses with ``Retry-After`` (counted like other rejections)."""

    async def rate_limited(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RateLimitedError)
        rejected.labels(exc.code).inc()
        return JSONResponse(
            {"error": {"code": exc.code, "message": exc.message}},
            status_code=exc.http_status,
            headers={"Retry-After": str(exc.retry_after)},
        )

    app.add_exception_handler(RateLimitedError, rate_limited)
