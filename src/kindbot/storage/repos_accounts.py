"""SQL repository for dashboard accounts: users, memberships and browser sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from kindbot.core.records.accounts import Invitation, Membership, Role, UserRecord, WebSession
from kindbot.storage.executor import Executor
from kindbot.storage.schema import invitations, memberships, users, web_sessions
from kindbot.storage.sqlutil import new_id


def _user(row: Any) -> UserRecord:
    return UserRecord(
        id=row.id,
        email=row.email,
        name=row.name,
        password_hash=row.password_hash,
        platform_admin=bool(row.platform_admin),
        locale=row.locale,
        failed_logins=int(row.failed_logins),
        locked_until=row.locked_until,
        created_at=row.created_at,
    )


def _membership(row: Any) -> Membership:
    return Membership(
        user_id=row.user_id,
        tenant_id=row.tenant_id,
        role=Role(row.role),
        agent_id=row.agent_id,
        created_at=row.created_at,
    )


def _session(row: Any) -> WebSession:
    return WebSession(
        token_hash=row.token_hash,
        user_id=row.user_id,
        csrf=row.csrf,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def _invitation(row: Any) -> Invitation:
    return Invitation(
        token_hash=row.token_hash,
        tenant_id=row.tenant_id,
        email=row.email,
        role=Role(row.role),
        invited_by=row.invited_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        accepted_at=row.accepted_at,
    )


_SESSION = select(web_sessions).where(web_sessions.c.token_hash == bindparam("token_hash"))
_USER = select(users).where(users.c.id == bindparam("user_id"))


class SqlAccounts:
    """:class:`kindbot.core.ports.accounts.AccountRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add_user(
        self, *, email: str, name: str, password_hash: str, platform_admin: bool, now: datetime
    ) -> UserRecord:
        record = UserRecord(
            id=new_id(),
            email=email,
            name=name,
            password_hash=password_hash,
            platform_admin=platform_admin,
            locale=None,
            failed_logins=0,
            locked_until=None,
            created_at=now,
        )
        values = {f: getattr(record, f) for f in UserRecord.__slots__}
        await self._conn.execute(insert(users).values(values))
        return record

    async def user(self, user_id: str) -> UserRecord | None:
        row = (await self._conn.execute(_USER, {"user_id": user_id})).first()
        return _user(row) if row else None

    async def user_by_email(self, email: str) -> UserRecord | None:
        row = (await self._conn.execute(select(users).where(users.c.email == email))).first()
        return _user(row) if row else None

    async def all_users(self) -> list[UserRecord]:
        rows = await self._conn.execute(select(users).order_by(users.c.email))
        return [_user(r) for r in rows]

    async def set_login_state(
        self, user_id: str, *, failed_logins: int, locked_until: datetime | None
    ) -> None:
        await self._conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(failed_logins=failed_logins, locked_until=locked_until)
        )

    async def set_password(self, user_id: str, password_hash: str) -> None:
        await self._conn.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        )

    async def set_locale(self, user_id: str, locale: str) -> None:
        await self._conn.execute(update(users).where(users.c.id == user_id).values(locale=locale))

    async def grant(self, membership: Membership) -> None:
        key = (memberships.c.user_id == membership.user_id) & (
            memberships.c.tenant_id == membership.tenant_id
        )
        await self._conn.execute(delete(memberships).where(key))
        values = {f: getattr(membership, f) for f in Membership.__slots__}
        values["role"] = membership.role.value
        await self._conn.execute(insert(memberships).values(values))

    async def revoke(self, user_id: str, tenant_id: str) -> bool:
        query = (
            delete(memberships)
            .where(memberships.c.user_id == user_id, memberships.c.tenant_id == tenant_id)
            .returning(memberships.c.user_id)
        )
        return bool((await self._conn.execute(query)).all())

    async def memberships_of(self, user_id: str) -> list[Membership]:
        query = select(memberships).where(memberships.c.user_id == user_id)
        return [_membership(r) for r in await self._conn.execute(query)]

    async def membership(self, user_id: str, tenant_id: str) -> Membership | None:
        query = select(memberships).where(
            memberships.c.user_id == user_id, memberships.c.tenant_id == tenant_id
        )
        row = (await self._conn.execute(query)).first()
        return _membership(row) if row else None

    async def members(self, tenant_id: str) -> list[tuple[UserRecord, Membership]]:
        query = (
            select(users, memberships)
            .join(memberships, memberships.c.user_id == users.c.id)
            .where(memberships.c.tenant_id == tenant_id)
            .order_by(users.c.email)
        )
        return [(_user(r), _membership(r)) for r in await self._conn.execute(query)]

    async def add_session(self, session: WebSession) -> None:
        values = {f: getattr(session, f) for f in WebSession.__slots__}
        await self._conn.execute(insert(web_sessions).values(values))

    async def session(self, token_hash: str) -> WebSession | None:
        row = (await self._conn.execute(_SESSION, {"token_hash": token_hash})).first()
        return _session(row) if row else None

    async def end_session(self, token_hash: str) -> None:
        await self._conn.execute(
            delete(web_sessions).where(web_sessions.c.token_hash == token_hash)
        )

    async def end_sessions(self, user_id: str, *, keep: str | None = None) -> int:
        query = delete(web_sessions).where(web_sessions.c.user_id == user_id)
        if keep is not None:
            query = query.where(web_sessions.c.token_hash != keep)
        return len((await self._conn.execute(query.returning(web_sessions.c.token_hash))).all())

    async def purge_sessions(self, now: datetime) -> int:
        query = delete(web_sessions).where(web_sessions.c.expires_at <= now)
        return len((await self._conn.execute(query.returning(web_sessions.c.token_hash))).all())

    async def add_invitation(self, invitation: Invitation) -> None:
        values = {f: getattr(invitation, f) for f in Invitation.__slots__}
        values["role"] = invitation.role.value
        await self._conn.execute(insert(invitations).values(values))

    async def invitation(self, token_hash: str) -> Invitation | None:
        query = select(invitations).where(invitations.c.token_hash == token_hash)
        row = (await self._conn.execute(query)).first()
        return _invitation(row) if row else None

    async def open_invitations(self, tenant_id: str, now: datetime) -> list[Invitation]:
        query = (
            select(invitations)
            .where(
                invitations.c.tenant_id == tenant_id,
                invitations.c.accepted_at.is_(None),
                invitations.c.expires_at > now,
            )
            .order_by(invitations.c.created_at)
        )
        return [_invitation(r) for r in await self._conn.execute(query)]

    async def accept_invitation(self, token_hash: str, now: datetime) -> bool:
        query = (
            update(invitations)
            .where(
                invitations.c.token_hash == token_hash,
                invitations.c.accepted_at.is_(None),
                invitations.c.expires_at > now,
            )
            .values(accepted_at=now)
            .returning(invitations.c.token_hash)
        )
        return bool((await self._conn.execute(query)).all())

    async def withdraw_invitation(self, token_hash: str, tenant_id: str) -> bool:
        query = (
            delete(invitations)
            .where(
                invitations.c.token_hash == token_hash,
                invitations.c.tenant_id == tenant_id,
                invitations.c.accepted_at.is_(None),
            )
            .returning(invitations.c.token_hash)
        )
        return bool((await self._conn.execute(query)).all())
