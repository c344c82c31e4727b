"""Inviting people to a shop: a link for one email and role, used once within a week.

A shop admin invites an email as a role; the link's token is shown once (the
admin passes it on: kindbot sends no email) and stored only as its SHA-256.
Opening it, a newcomer chooses a name and password; someone who already has
an account signs in first and joins with one click. Inviting, joining and
withdrawing are audited in the shop's chain.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from kindbot.core.errors import BadRequestError, ConflictError, NotFoundError
from kindbot.core.ports.seams import Store
from kindbot.core.records.accounts import Invitation, Membership, Role, UserRecord
from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.accounts import (
    MAX_NAME,
    agent_for,
    audit_account,
    check_password_rules,
    hash_password,
    normal_email,
    token_hash,
)

INVITATION_TTL = timedelta(days=7)
"""How long an invitation link works."""


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """A new invitation and its link's token (shown once, never stored)."""

    token: str
    invitation: Invitation


async def invite(
    store: Store, *, tenant: TenantRecord, email: str, role: Role, by: UserRecord, now: datetime
) -> IssuedInvitation:
    """Invite ``email`` to ``tenant`` as ``role``; 409 ``already_member`` if they are one."""
    address = normal_email(email)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=token_hash(token),
        tenant_id=tenant.id,
        email=address,
        role=role,
        invited_by=by.id,
        created_at=now,
        expires_at=now + INVITATION_TTL,
        accepted_at=None,
    )
    async with store.transaction() as tx:
        existing = await tx.accounts.user_by_email(address)
        if existing and await tx.accounts.membership(existing.id, tenant.id):
            raise ConflictError(f"{address} is a member already", code="already_member")
        await tx.accounts.add_invitation(invitation)
        detail = {"role": role.value, "by": by.email}
        await audit_account(tx, tenant.id, "invited", address, detail, now)
    return IssuedInvitation(token, invitation)


async def open_invitation(store: Store, token: str, now: datetime) -> Invitation:
    """The invitation of ``token`` while it can be used; 404 ``invalid_invitation`` otherwise."""
    async with store.transaction(readonly=True) as tx:
        found = await tx.accounts.invitation(token_hash(token))
    if found is None or found.accepted_at is not None or found.expires_at <= now:
        raise NotFoundError(
            "this invitation link is not valid (used, expired or withdrawn)",
            code="invalid_invitation",
        )
    return found


async def accept(
    store: Store,
    token: str,
    *,
    now: datetime,
    signed_in: UserRecord | None = None,
    name: str = "",
    password: str = "",
) -> UserRecord:
    """Join the shop with the invitation of ``token``, all in one transaction.

    ``signed_in``: the invitee's existing account (must have the invited email:
    403-style 409 ``other_account`` otherwise). Without it a new account is
    created with ``name`` and ``password``; if the email has an account already,
    409 ``account_exists`` (sign in first). The link works once.
    """
    invitation = await open_invitation(store, token, now)
    if signed_in is not None and signed_in.email != invitation.email:
        raise ConflictError(
            f"this invitation is for {invitation.email}: sign out and sign in as them",
            code="other_account",
        )
    hashed = None
    if signed_in is None:
        check_password_rules(password)
        hashed = await hash_password(password)
    async with store.transaction() as tx:
        if not await tx.accounts.accept_invitation(invitation.token_hash, now):
            raise NotFoundError("this invitation link was just used", code="invalid_invitation")
        user = signed_in
        if user is None:
            if await tx.accounts.user_by_email(invitation.email) is not None:
                raise ConflictError(
                    f"{invitation.email} has an account: sign in, then open the link again",
                    code="account_exists",
                )
            assert hashed is not None
            display = " ".join(name.split())[:MAX_NAME] or invitation.email.partition("@")[0]
            user = await tx.accounts.add_user(
                email=invitation.email,
                name=display,
                password_hash=hashed,
                platform_admin=False,
                now=now,
            )
        agent_id = (
            await agent_for(tx, invitation.tenant_id, user, now)
            if (invitation.role is Role.AGENT)
            else None
        )
        await tx.accounts.grant(
            Membership(user.id, invitation.tenant_id, invitation.role, agent_id, now)
        )
        detail = {"role": invitation.role.value}
        await audit_account(tx, invitation.tenant_id, "joined", user.email, detail, now)
    return user


async def withdraw(
    store: Store, *, tenant: TenantRecord, token_hash_hex: str, by: UserRecord, now: datetime
) -> None:
    """Withdraw the shop's open invitation (by its stored hash); 404 when there is none."""
    async with store.transaction() as tx:
        found = await tx.accounts.invitation(token_hash_hex)
        if found is None or found.tenant_id != tenant.id:
            raise NotFoundError("no such open invitation", code="unknown_invitation")
        if not await tx.accounts.withdraw_invitation(token_hash_hex, tenant.id):
            raise NotFoundError("no such open invitation", code="unknown_invitation")
        await audit_account(tx, tenant.id, "withdrawn", found.email, {"by": by.email}, now)


def check_role_change(admins: int, current: Role, new: Role | None) -> None:
    """400 ``last_admin`` when the change would leave the shop without a tenant admin.

    ``admins``: the shop's tenant admins now; ``new`` None means removing the member.
    """
    if current is Role.TENANT_ADMIN and new is not Role.TENANT_ADMIN and admins <= 1:
        raise BadRequestError(
            "the shop needs at least one shop admin: make someone else admin first",
            code="last_admin",
        )
