"""Dashboard accounts: passwords, sign-in with lockout, sessions, memberships.

Passwords are stored only as argon2id hashes (``argon2-cffi``'s defaults:
RFC 9106's second recommended parameters); hashing and checking run in a
worker thread, so a sign-in never stalls the event loop. Five consecutive
failures lock the account for 15 minutes (audited in every tenant the user
belongs to); failures are also counted per source address by the web layer.
A session is a random token in an HttpOnly cookie; the database keeps only
its SHA-256, with the CSRF token its forms must echo.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kindbot.bundles.tenants import append_audit
from kindbot.core.errors import BadRequestError, ConflictError, NotFoundError
from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.accounts import Membership, Role, UserRecord, WebSession
from kindbot.core.records.tenancy import TenantRecord
from kindbot.guard.audit import AuditDraft

log = logging.getLogger(__name__)

MAX_FAILURES = 5
"""Consecutive failed sign-ins that lock an account."""
LOCKOUT = timedelta(minutes=15)
"""How long a locked account refuses every sign-in."""
SESSION_TTL = timedelta(hours=12)
"""A session's absolute lifetime (sign in again after it)."""
MIN_PASSWORD = 10
MAX_PASSWORD = 256
MAX_NAME = 100
AUDIT_KIND = "account"

_hasher = PasswordHasher()
# Checked against when the email is unknown, so both cases cost one argon2 verify.
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_urlsafe(16))


class SignInFailure(StrEnum):
    """Why a sign-in was refused (the page says the same for both wrong cases)."""

    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: the cookie's token (never stored) and the session row."""

    token: str
    session: WebSession
    user: UserRecord


@dataclass(frozen=True, slots=True)
class Refused:
    """A refused sign-in; ``locked_until`` is set when the account is locked."""

    reason: SignInFailure
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class LoginState:
    """What a failed attempt leaves on the account."""

    failed_logins: int
    locked_until: datetime | None

    @property
    def just_locked(self) -> bool:
        """True when this failure locked the account."""
        return self.locked_until is not None


def after_failure(failed_logins: int, now: datetime) -> LoginState:
    """The account's state after one more failure: locked at :data:`MAX_FAILURES` (count reset)."""
    failures = failed_logins + 1
    if failures >= MAX_FAILURES:
        return LoginState(0, now + LOCKOUT)
    return LoginState(failures, None)


def is_locked(user: UserRecord, now: datetime) -> bool:
    """True while the account's lock lasts."""
    return user.locked_until is not None and now < user.locked_until


def normal_email(email: str) -> str:
    """The stored form of an email (trimmed, lower-cased); 400 ``invalid_email`` if malformed."""
    text = email.strip().lower()
    local, _, domain = text.partition("@")
    if not local or "." not in domain or len(text) > 254 or any(c.isspace() for c in text):
        raise BadRequestError(f"email: {email!r} is not an email address", code="invalid_email")
    return text


def check_password_rules(password: str) -> None:
    """400 ``weak_password`` unless ``password`` has MIN_PASSWORD to MAX_PASSWORD characters."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise BadRequestError(
            f"password: {MIN_PASSWORD} to {MAX_PASSWORD} characters", code="weak_password"
        )


def token_hash(token: str) -> str:
    """The stored form of a session token (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (computed off the event loop)."""
    return await asyncio.to_thread(_hasher.hash, password)


async def password_matches(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches ``stored_hash`` (checked off the event loop)."""

    def check() -> bool:
        try:
            return _hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


async def add_user(
    store: Store,
    *,
    email: str,
    name: str,
    password: str,
    platform_admin: bool = False,
    now: datetime,
) -> UserRecord:
    """Create a user; 409 ``email_taken`` if the email has an account already."""
    address = normal_email(email)
    check_password_rules(password)
    display = " ".join(name.split())[:MAX_NAME] or address.partition("@")[0]
    hashed = await hash_password(password)
    async with store.transaction() as tx:
        if await tx.accounts.user_by_email(address) is not None:
            raise ConflictError(f"{address} has an account already", code="email_taken")
        return await tx.accounts.add_user(
            email=address,
            name=display,
            password_hash=hashed,
            platform_admin=platform_admin,
            now=now,
        )


async def user_by_email(tx: Transaction, email: str) -> UserRecord:
    """The user with ``email``, or 404 ``unknown_user``."""
    user = await tx.accounts.user_by_email(normal_email(email))
    if user is None:
        raise NotFoundError(f"no user {email!r}", code="unknown_user")
    return user


async def grant_role(
    store: Store, *, email: str, tenant: TenantRecord, role: Role, actor: str, now: datetime
) -> Membership:
    """Make the user a member of ``tenant`` as ``role`` (audited in the tenant's chain).

    An agent gets an inbox agent row of the tenant (named after the user) so the
    inbox can assign conversations to them; an existing one of that name is reused.
    """
    async with store.transaction() as tx:
        user = await user_by_email(tx, email)
        agent_id = None
        if role is Role.AGENT:
            agent_id = await agent_for(tx, tenant.id, user, now)
        membership = Membership(user.id, tenant.id, role, agent_id, now)
        await tx.accounts.grant(membership)
        await audit_account(
            tx, tenant.id, "granted", user.email, {"role": role.value, "by": actor}, now
        )
    return membership


async def agent_for(tx: Transaction, tenant_id: str, user: UserRecord, now: datetime) -> str:
    """The tenant's inbox agent for ``user`` (named by their email), created when missing."""
    for agent in await tx.agents.list(tenant_id):
        if agent.name == user.email:
            return agent.id
    return (await tx.agents.add(tenant_id=tenant_id, name=user.email, now=now)).id


async def audit_account(
    tx: Transaction,
    tenant_id: str,
    decision: str,
    subject: str,
    detail: dict[str, str],
    now: datetime,
) -> None:
    draft = AuditDraft(
        tenant_id=tenant_id,
        at=now,
        kind=AUDIT_KIND,
        subject=subject,
        rule="dashboard_account",
        decision=decision,
        detail=json.dumps(detail, ensure_ascii=False),
    )
    await append_audit(tx, draft)


async def sign_in(
    store: Store, *, email: str, password: str, now: datetime, source: str
) -> SignedIn | Refused:
    """Check the credentials; a new session, or why not (same answer for unknown and wrong).

    A locked account is refused without looking at the password. The fifth
    consecutive failure locks it and is audited in each of the user's tenants.
    """
    try:
        address = normal_email(email)
    except BadRequestError:
        return Refused(SignInFailure.WRONG)
    async with store.transaction(readonly=True) as tx:
        user = await tx.accounts.user_by_email(address)
    if user is not None and is_locked(user, now):
        return Refused(SignInFailure.LOCKED, user.locked_until)
    matches = await password_matches(user.password_hash if user else _UNKNOWN_USER_HASH, password)
    if user is None:
        return Refused(SignInFailure.WRONG)
    if not matches:
        return await _failed(store, user, now, source)
    return await _open_session(store, user, now)


async def _failed(store: Store, user: UserRecord, now: datetime, source: str) -> Refused:
    async with store.transaction() as tx:
        current = await tx.accounts.user(user.id)
        state = after_failure(current.failed_logins if current else user.failed_logins, now)
        await tx.accounts.set_login_state(
            user.id, failed_logins=state.failed_logins, locked_until=state.locked_until
        )
        if state.just_locked:
            detail = {"source": source, "until": now.isoformat()}
            for membership in await tx.accounts.memberships_of(user.id):
                await audit_account(tx, membership.tenant_id, "locked", user.email, detail, now)
    if state.just_locked:
        log.warning("dashboard account %s locked after %d failed sign-ins", user.id, MAX_FAILURES)
        return Refused(SignInFailure.LOCKED, state.locked_until)
    return Refused(SignInFailure.WRONG)


async def _open_session(store: Store, user: UserRecord, now: datetime) -> SignedIn:
    token = secrets.token_urlsafe(32)
    session = WebSession(
        token_hash=token_hash(token),
        user_id=user.id,
        csrf=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + SESSION_TTL,
    )
    async with store.transaction() as tx:
        await tx.accounts.set_login_state(user.id, failed_logins=0, locked_until=None)
        await tx.accounts.add_session(session)
        await tx.accounts.purge_sessions(now)
    return SignedIn(token, session, user)


@dataclass(frozen=True, slots=True)
class Visitor:
    """The signed-in user behind a request, with their session and memberships."""

    user: UserRecord
    session: WebSession
    memberships: tuple[Membership, ...]

    def role_in(self, tenant_id: str) -> Role | None:
        """The user's role in the tenant (a platform admin acts as its tenant admin)."""
        for membership in self.memberships:
            if membership.tenant_id == tenant_id:
                return membership.role
        return Role.TENANT_ADMIN if self.user.platform_admin else None


async def visitor_for(store: Store, token: str, now: datetime) -> Visitor | None:
    """The session's visitor, or None for an unknown or expired token."""
    async with store.transaction(readonly=True) as tx:
        session = await tx.accounts.session(token_hash(token))
        if session is None or session.expires_at <= now:
            return None
        user = await tx.accounts.user(session.user_id)
        if user is None:
            return None
        memberships = await tx.accounts.memberships_of(user.id)
    return Visitor(user, session, tuple(memberships))


async def sign_out(store: Store, token: str) -> None:
    """End the session of ``token`` (nothing when it is unknown)."""
    async with store.transaction() as tx:
        await tx.accounts.end_session(token_hash(token))


async def sign_out_everywhere(store: Store, user_id: str) -> int:
    """End every session of the user; how many."""
    async with store.transaction() as tx:
        return await tx.accounts.end_sessions(user_id)


async def change_password(store: Store, visitor: Visitor, *, current: str, new: str) -> None:
    """Replace the password after checking the current one; other sessions are signed out.

    400 ``wrong_password`` when ``current`` does not match, ``weak_password`` per the rules.
    """
    if not await password_matches(visitor.user.password_hash, current):
        raise BadRequestError("current password: not correct", code="wrong_password")
    check_password_rules(new)
    hashed = await hash_password(new)
    async with store.transaction() as tx:
        await tx.accounts.set_password(visitor.user.id, hashed)
        await tx.accounts.end_sessions(visitor.user.id, keep=visitor.session.token_hash)


async def revoke_role(
    store: Store, *, email: str, tenant: TenantRecord, actor: str, now: datetime
) -> bool:
    """End the user's membership of ``tenant`` (audited); False when there was none."""
    async with store.transaction() as tx:
        user = await user_by_email(tx, email)
        ended = await tx.accounts.revoke(user.id, tenant.id)
        if ended:
            await audit_account(tx, tenant.id, "revoked", user.email, {"by": actor}, now)
    return ended
