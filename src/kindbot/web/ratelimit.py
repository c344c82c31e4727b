"""Rate limits on the public endpoints: what a stranger may send, and how fast.

Every limit is named, has a default (:data:`DEFAULTS`, in ``limits``' string
notation) and is configurable with ``KINDBOT_RATE_LIMIT_<NAME>=<limit>``
(``off`` disables one); ``KINDBOT_RATE_LIMITS=off`` disables them all (for
benchmarks). The limits and what they are keyed by:

==================== ============================ =========================================
name                 key                          counts
==================== ============================ =========================================
webchat_visitor      channel + visitor id         web-chat messages (POST and WebSocket frames)
webchat_address      source address               web-chat messages, all visitors together
webchat_connect      source address               WebSocket connections
webchat_new_visitor  source address               visitor ids without a contact yet (each would
                                                  create one)
webhook              channel + source address     webhook callbacks
wechat               channel + source address     WeChat OA / WeCom callbacks (generous: all of
                                                  an account's followers come from a few of
                                                  WeChat's addresses)
auth_failure         source address               failed API authentications; when exhausted
                                                  every API request from the address is 429
                                                  before its token is looked at
==================== ============================ =========================================

The source address is the ASGI client's host: behind a reverse proxy, uvicorn's
``--proxy-headers`` and ``--forwarded-allow-ips`` decide it.

The algorithm is the ``limits`` library's moving window (exact: a request is
refused when the last ``N`` accepted ones all fall within the period; its
sliding-window counter is cheaper but approximate at window boundaries), in
Redis or in process. Counters live in Redis when the platform has
one (``KINDBOT_REDIS_URL``: shared by every server process), else in this
process. When Redis cannot be reached the limits let requests through (and
log it): an outage of the counters must not silence every shop.

A request over a limit is :class:`RateLimitedError` — 429 ``rate_limited``
with ``Retry-After`` (whole seconds); on a WebSocket an error frame (on a
message) or an error frame and a close with code 1008 (on connect).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from prometheus_client import Counter
from starlette.requests import HTTPConnection

from kindbot.channels import webchat, webhook
from kindbot.errors import KindbotError
from kindbot.pipeline.directory import ResolvedChannel
from kindbot.settings import RATE_LIMIT_PREFIX, Settings
from kindbot.types import Store

__all__ = [
    "DEFAULTS",
    "RateLimitedError",
    "RateLimiter",
    "RateLimits",
    "WebchatMessageLimit",
    "install_rate_limit_handler",
]

log = logging.getLogger(__name__)

DEFAULTS: dict[str, str] = {
    "webchat_visitor": "20/minute",
    "webchat_address": "120/minute",
    "webchat_connect": "30/minute",
    "webchat_new_visitor": "30/hour",
    "webhook": "600/minute",
    "wechat": "6000/minute",
    "auth_failure": "20/minute",
}
"""Every limit's default (documented in README.md)."""

KEY_PREFIX = "kindbot:ratelimit"
UNKNOWN_ADDRESS = "unknown"
POLICY_VIOLATION = 1008


class InvalidRateLimitError(KindbotError):
    """A ``KINDBOT_RATE_LIMIT_*`` variable names no limit or is not a limit."""

    code = "invalid_rate_limit"


class RateLimitedError(KindbotError):
    """Too many requests: 429 ``rate_limited``, retry after ``retry_after`` seconds."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The enabled limits by name (a disabled limit is absent)."""

    items: tuple[tuple[str, RateLimitItem], ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        """Defaults with the settings' overrides.

        :class:`InvalidRateLimitError` names a variable that is not a limit.
        """
        if not settings.rate_limits_enabled:
            return cls(())
        texts = dict(DEFAULTS)
        for name, value in settings.rate_limits:
            variable = f"{RATE_LIMIT_PREFIX}{name.upper()}"
            if name not in DEFAULTS:
                raise InvalidRateLimitError(
                    f"{variable}: no such limit (known: {', '.join(sorted(DEFAULTS))})"
                )
            texts[name] = value.strip()
        items: list[tuple[str, RateLimitItem]] = []
        for name, text in texts.items():
            if text.lower() == "off":
                continue
            try:
                items.append((name, parse(text)))
            except ValueError as exc:
                raise InvalidRateLimitError(
                    f"{RATE_LIMIT_PREFIX}{name.upper()}={text!r}: not a limit like "
                    f"'60/minute' or '5 per second', nor 'off' ({exc})"
                ) from exc
        return cls(tuple(items))

    def get(self, name: str) -> RateLimitItem | None:
        """The limit ``name``, None when it is off."""
        return next((item for n, item in self.items if n == name), None)


class RateLimiter:
    """Counts hits per limit and key; raises :class:`RateLimitedError` over a limit.

    Owns its Redis connection pool (closed by :meth:`aclose`).
    """

    def __init__(self, limits: RateLimits, redis_url: str | None) -> None:
        self.limits = limits
        self._pool: aioredis.ConnectionPool | None = None
        self._storage: MemoryStorage | RedisStorage
        if redis_url is None:
            self._storage = MemoryStorage(wrap_exceptions=True)
        else:
            self._pool = aioredis.ConnectionPool.from_url(redis_url)
            self._storage = RedisStorage(
                f"async+{redis_url}",
                implementation="redispy",
                key_prefix=KEY_PREFIX,
                wrap_exceptions=True,
                # limits annotates options as scalars; its redis-py bridge takes a pool.
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
        self._strategy = MovingWindowRateLimiter(self._storage)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        """The limiter the settings describe (Redis counters when ``redis_url`` is set)."""
        return cls(RateLimits.from_settings(settings), settings.redis_url)

    async def hit(self, name: str, *keys: str) -> None:
        """Count one hit of limit ``name`` for ``keys``; :class:`RateLimitedError` when over it."""
        item = self.limits.get(name)
        if item is None:
            return
        try:
            if await self._strategy.hit(item, name, *keys):
                return
        except StorageError as exc:
            log.warning("rate limit %s not checked (counters unavailable): %s", name, exc)
            return
        raise await self._refusal(name, item, keys)

    async def check(self, name: str, *keys: str) -> None:
        """:class:`RateLimitedError` when limit ``name`` is used up for ``keys``; counts nothing."""
        item = self.limits.get(name)
        if item is None:
            return
        try:
            if await self._strategy.test(item, name, *keys):
                return
        except StorageError as exc:
            log.warning("rate limit %s not checked (counters unavailable): %s", name, exc)
            return
        raise await self._refusal(name, item, keys)

    async def _refusal(
        self, name: str, item: RateLimitItem, keys: tuple[str, ...]
    ) -> RateLimitedError:
        try:
            stats = await self._strategy.get_window_stats(item, name, *keys)
            wait = stats.reset_time - time.time()
        except StorageError:
            wait = item.get_expiry()
        retry_after = max(1, math.ceil(wait))
        return RateLimitedError(
            f"too many requests ({name}: {item.amount} per {item.multiples} "
            f"{item.GRANULARITY.name}); retry in {retry_after} s",
            retry_after=retry_after,
        )

    async def aclose(self) -> None:
        """Close the Redis connections (or stop the in-process expiry task)."""
        if self._pool is not None:
            await self._pool.aclose()
        elif isinstance(self._storage, MemoryStorage) and self._storage.timer is not None:
            self._storage.timer.cancel()


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
    """Count one platform callback per channel and source address (``webhook`` or ``wechat``)."""
    limit = "webhook" if channel.channel.kind == webhook.KIND else "wechat"
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
