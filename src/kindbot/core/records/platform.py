"""The messaging platforms' own state kept by kindbot: access tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token as issued by a platform, with its absolute expiry."""

    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CachedToken:
    """A stored access token and the refresh lease on it."""

    key: str
    token: str | None
    expires_at: datetime | None
    lease_until: datetime | None
