"""People who sign in to the dashboard: users, their roles per tenant, their sessions.

Accounts are platform-wide (one person may work for several tenants), so the
user and session rows carry no ``tenant_id``; a :class:`Membership` names the
tenant and the role there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """What a member may do in one tenant (the platform admin is a flag on the user)."""

    TENANT_ADMIN = "tenant_admin"
    AGENT = "agent"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A dashboard user. ``email`` is stored lower-cased; only an argon2id hash of the password.

    ``failed_logins`` counts consecutive failures since the last success;
    ``locked_until`` refuses every sign-in until then (even with the right password).
    """

    id: str
    email: str
    name: str
    password_hash: str
    platform_admin: bool
    locale: str | None
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Membership:
    """``user_id`` works for ``tenant_id`` as ``role``; agents have an inbox agent row."""

    user_id: str
    tenant_id: str
    role: Role
    agent_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser: stored by the SHA-256 of its cookie token, never the token.

    ``csrf`` is the token every form and fragment request of the session must echo.
    """

    token_hash: str
    user_id: str
    csrf: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Invitation:
    """A shop admin's invitation of ``email`` as ``role``; the link's token is stored hashed.

    Used once (``accepted_at``), and only before ``expires_at``.
    """

    token_hash: str
    tenant_id: str
    email: str
    role: Role
    invited_by: str
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
