"""SQL repositories for platform plumbing: shared access tokens and callback nonces."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, or_, select, update

from kindbot.core.records.platform import CachedToken
from kindbot.storage.executor import Executor
from kindbot.storage.schema import access_tokens, callback_nonces
from kindbot.storage.sqlutil import insert_ignoring_conflict, key_digest


class SqlAccessTokens:
    """:class:`kindbot.core.ports.platform.AccessTokenRepository` over SQL.

    The lease is a conditional UPDATE, so exactly one process at a time wins
    the right to call the platform's token endpoint.
    """

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def get(self, key: str) -> CachedToken | None:
        row = (
            await self._conn.execute(select(access_tokens).where(access_tokens.c.key == key))
        ).first()
        if row is None:
            return None
        return CachedToken(row.key, row.token, row.expires_at, row.lease_until)

    async def try_lease(
        self,
        *,
        tenant_id: str,
        key: str,
        until: datetime,
        now: datetime,
        fresh_after: datetime,
        stale: str | None,
    ) -> bool:
        await insert_ignoring_conflict(
            self._conn,
            access_tokens,
            {
                "key": key,
                "tenant_id": tenant_id,
                "token": None,
                "expires_at": None,
                "lease_until": None,
            },
            ["key"],
        )
        result = await self._conn.execute(
            update(access_tokens)
            .where(
                access_tokens.c.key == key,
                or_(access_tokens.c.lease_until.is_(None), access_tokens.c.lease_until <= now),
                or_(
                    access_tokens.c.token.is_(None),
                    access_tokens.c.expires_at <= fresh_after,
                    access_tokens.c.token == (stale or ""),
                ),
            )
            .values(lease_until=until)
        )
        return bool(result.rowcount)

    async def save(self, *, key: str, token: str, expires_at: datetime) -> None:
        await self._conn.execute(
            update(access_tokens)
            .where(access_tokens.c.key == key)
            .values(token=token, expires_at=expires_at, lease_until=None)
        )

    async def end_lease(self, key: str) -> None:
        await self._conn.execute(
            update(access_tokens).where(access_tokens.c.key == key).values(lease_until=None)
        )


_TIMESTAMP_LENGTH = 20
_NONCE_FINGERPRINT = select(callback_nonces.c.fingerprint).where(
    callback_nonces.c.channel_id == bindparam("channel_id"),
    callback_nonces.c.nonce == bindparam("nonce"),
    callback_nonces.c.timestamp == bindparam("timestamp"),
)


class SqlNonces:
    """:class:`kindbot.core.ports.platform.NonceRepository` over SQL.

    The nonce and the fingerprint are stored as :func:`key_digest` digests
    (fixed length, never cut); the timestamp as sent, which must fit its
    column (callers bound it: ``ValueError`` otherwise, never a silent cut).
    """

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def remember(
        self,
        *,
        tenant_id: str,
        channel_id: str,
        nonce: str,
        timestamp: str,
        fingerprint: str,
        now: datetime,
    ) -> str:
        if len(timestamp) > _TIMESTAMP_LENGTH:
            raise ValueError(f"timestamp longer than {_TIMESTAMP_LENGTH} characters")
        digest = key_digest(fingerprint)
        key = {"channel_id": channel_id, "nonce": key_digest(nonce), "timestamp": timestamp}
        inserted = await insert_ignoring_conflict(
            self._conn,
            callback_nonces,
            {**key, "tenant_id": tenant_id, "fingerprint": digest, "created_at": now},
            ["channel_id", "nonce", "timestamp"],
        )
        if inserted:
            return fingerprint
        first = str((await self._conn.execute(_NONCE_FINGERPRINT, key)).scalar_one())
        return fingerprint if first == digest else first

    async def forget_before(self, before: datetime) -> int:
        result = await self._conn.execute(
            delete(callback_nonces).where(callback_nonces.c.created_at < before)
        )
        return int(result.rowcount)
