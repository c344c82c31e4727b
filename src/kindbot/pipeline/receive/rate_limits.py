"""Rate limits on the public endpoints: what a stranger may send, and how fast.

The limits and their counters live here; :mod:`kindbot.web.ratelimit` applies
them to requests and WebSockets.

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

import redis.asyncio as aioredis
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from kindbot.core.errors import KindbotError
from kindbot.settings import RATE_LIMIT_PREFIX, Settings

__all__ = ["DEFAULTS", "RateLimitedError", "RateLimiter", "RateLimits"]

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
