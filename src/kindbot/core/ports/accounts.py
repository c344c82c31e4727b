"""Repository Protocol of dashboard accounts (a contract module).

Assembled into :class:`kindbot.core.ports.seams.Transaction` as ``accounts``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from kindbot.core.records.accounts import Invitation, Membership, UserRecord, WebSession


class AccountRepository(Protocol):
    """Users (unique lower-cased email), their memberships and their browser sessions."""

    async def add_user(
        self, *, email: str, name: str, password_hash: str, platform_admin: bool, now: datetime
    ) -> UserRecord:
        """Store a new user (the caller checked the email is free; the unique index backs it)."""
        ...

    async def user(self, user_id: str) -> UserRecord | None:
        """The user with this id."""
        ...

    async def user_by_email(self, email: str) -> UserRecord | None:
        """The user with this (lower-cased) email."""
        ...

    async def all_users(self) -> list[UserRecord]:
        """Every user, by email."""
        ...

    async def set_login_state(
        self, user_id: str, *, failed_logins: int, locked_until: datetime | None
    ) -> None:
        """Record consecutive failures and the lock after a sign-in attempt."""
        ...

    async def set_password(self, user_id: str, password_hash: str) -> None:
        """Replace the user's password hash."""
        ...

    async def set_locale(self, user_id: str, locale: str) -> None:
        """Remember the user's language."""
        ...

    async def grant(self, membership: Membership) -> None:
        """Make the user a member of the tenant with this role (replacing an earlier role)."""
        ...

    async def revoke(self, user_id: str, tenant_id: str) -> bool:
        """End the membership; False when there was none."""
        ...

    async def memberships_of(self, user_id: str) -> list[Membership]:
        """Every tenant the user belongs to."""
        ...

    async def membership(self, user_id: str, tenant_id: str) -> Membership | None:
        """The user's membership of the tenant, if any."""
        ...

    async def members(self, tenant_id: str) -> list[tuple[UserRecord, Membership]]:
        """The tenant's members, by email."""
        ...

    async def add_session(self, session: WebSession) -> None:
        """Store a new browser session."""
        ...

    async def session(self, token_hash: str) -> WebSession | None:
        """The session whose token hashes to ``token_hash`` (expired ones too)."""
        ...

    async def end_session(self, token_hash: str) -> None:
        """Sign one browser out."""
        ...

    async def end_sessions(self, user_id: str, *, keep: str | None = None) -> int:
        """Sign the user out everywhere (but the session ``keep``); how many ended."""
        ...

    async def purge_sessions(self, now: datetime) -> int:
        """Delete sessions expired at ``now``; how many."""
        ...

    async def add_invitation(self, invitation: Invitation) -> None:
        """Store a new invitation."""
        ...

    async def invitation(self, token_hash: str) -> Invitation | None:
        """The invitation whose link token hashes to ``token_hash`` (used or expired too)."""
        ...

    async def open_invitations(self, tenant_id: str, now: datetime) -> list[Invitation]:
        """The tenant's invitations not yet used nor expired at ``now``, oldest first."""
        ...

    async def accept_invitation(self, token_hash: str, now: datetime) -> bool:
        """Mark the invitation used, if it is still open at ``now`` (exactly once)."""
        ...

    async def withdraw_invitation(self, token_hash: str, tenant_id: str) -> bool:
        """Delete the tenant's open invitation; False when there is none."""
        ...
