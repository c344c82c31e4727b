"""One sender's messages on one channel are processed one at a time, in every process.

A message holds its sender's lock from being stored until its outcome commits,
so its reads (flow state, the bot's recent replies, a handoff) see everything
its predecessor wrote. :class:`LocalSenderLocks` serialises within one process
(one server on SQLite); :class:`RedisSenderLocks` adds a Redis lock so several
servers serialise too. The Redis lock expires after :data:`LOCK_EXPIRY_S`: a
process that dies holding it delays that sender's next message at most that
long, and a turn is never that long (platform deadlines are seconds; recovery
waits ``KINDBOT_RECOVERY_AFTER_S``). When Redis cannot be reached the lock of
this process still holds and a warning is logged: an outage of the lock
service must not stop every shop's replies.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

LOCK_EXPIRY_S = 60.0
"""How long a Redis sender lock lives unless released (its holder died)."""
LOCK_POLL_S = 0.01
"""How often a waiting process asks Redis again."""
KEY_PREFIX = "kindbot:sender-lock"


def lock_name(channel_id: str, sender: str) -> str:
    """The Redis key of one sender's lock on one channel (hashed: senders are arbitrary)."""
    digest = hashlib.sha256(f"{channel_id}\x00{sender}".encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}:{digest}"


class LocalSenderLocks:
    """Per-sender locks of this process (forgotten when nobody holds or waits)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def hold(self, channel_id: str, sender: str) -> AsyncIterator[None]:
        """Hold ``sender``'s lock on ``channel_id`` in this process."""
        lock = self._locks.setdefault(f"{channel_id}\x00{sender}", asyncio.Lock())
        async with lock:
            yield

    async def aclose(self) -> None:
        """Nothing to release."""


class RedisSenderLocks:
    """This process's lock first (its own messages queue without asking Redis),
    then a Redis lock with expiry shared by every process."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        expiry_s: float = LOCK_EXPIRY_S,
        poll_s: float = LOCK_POLL_S,
    ) -> None:
        self._local = LocalSenderLocks()
        self._client = client
        self._expiry_s = expiry_s
        self._poll_s = poll_s

    @classmethod
    def from_url(cls, url: str) -> RedisSenderLocks:
        """Locks in the Redis at ``url`` (its own connection pool)."""
        return cls(aioredis.Redis.from_url(url))

    @asynccontextmanager
    async def hold(self, channel_id: str, sender: str) -> AsyncIterator[None]:
        """Hold ``sender``'s lock on ``channel_id`` in this process and in Redis."""
        async with self._local.hold(channel_id, sender):
            lock = self._client.lock(
                lock_name(channel_id, sender),
                timeout=self._expiry_s,
                sleep=self._poll_s,
                thread_local=False,
            )
            try:
                await lock.acquire()
            except (RedisConnectionError, RedisTimeoutError) as exc:
                log.warning("sender lock without Redis (this process only): %s", exc)
                yield
                return
            try:
                yield
            finally:
                await _release(lock)

    async def aclose(self) -> None:
        """Close the Redis connections."""
        await self._client.aclose()


async def _release(lock: aioredis.lock.Lock) -> None:
    """Release ``lock``; one that expired (or a lost connection) is only logged."""
    try:
        await lock.release()
    except LockError:
        log.warning("a sender lock expired before its turn ended (%.0f s)", LOCK_EXPIRY_S)
    except (RedisConnectionError, RedisTimeoutError) as exc:
        log.warning("a sender lock was not released (it expires by itself): %s", exc)
