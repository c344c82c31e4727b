"""Repository Protocols for the messaging platforms' own state: access tokens,
callback nonces and 微信客服 sync cursors.

Contract module (imports only other contract modules); implemented in
``kindbot.storage.repos_platform`` and ``kindbot.storage.repos_wecom``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from kindbot.core.records.platform import CachedToken


class AccessTokenRepository(Protocol):
    """Platform access tokens shared by every process, with a refresh lease."""

    async def get(self, key: str) -> CachedToken | None: ...

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
        """Take the refresh lease unless another holder's lease is still running
        or a usable token (valid beyond ``fresh_after``, not ``stale``) is
        already stored — checked in the same statement, so a token saved by
        another process a moment ago is never fetched again."""
        ...

    async def save(self, *, key: str, token: str, expires_at: datetime) -> None:
        """Store a fresh token and end the lease."""
        ...

    async def end_lease(self, key: str) -> None:
        """Give the lease up without a new token (the refresh failed)."""
        ...


class NonceRepository(Protocol):
    """Callback nonces seen per channel (replay detection)."""

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
        """Record the nonce; returns the fingerprint first stored under it.

        A different value than the caller's ``fingerprint`` means the nonce was
        replayed with other content (the value returned then is an opaque form
        of the first fingerprint). Fingerprints of any length are compared
        whole, never cut.
        """
        ...

    async def forget_before(self, before: datetime) -> int: ...


class KfCursorRepository(Protocol):
    """Where each 微信客服 account's ``kf/sync_msg`` pull resumes, per (channel, open_kfid)."""

    async def get(self, channel_id: str, open_kfid: str) -> str | None:
        """The stored cursor, or ``None`` before the first pull."""
        ...

    async def save(
        self, *, tenant_id: str, channel_id: str, open_kfid: str, cursor: str, now: datetime
    ) -> None:
        """Store ``cursor`` (insert or overwrite); never raises on a concurrent first save."""
        ...
