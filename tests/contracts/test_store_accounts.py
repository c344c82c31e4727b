"""Dashboard accounts in storage, on every backend: users, memberships, sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from kindbot.core.ports.seams import Store
from kindbot.core.records.accounts import Membership, Role, WebSession
from tests.contracts.builders import T0, make_tenant


async def _user(store: Store, email: str = "li@example.com") -> str:
    async with store.transaction() as tx:
        user = await tx.accounts.add_user(
            email=email, name="Li", password_hash="h", platform_admin=False, now=T0
        )
    return user.id


async def test_a_user_is_found_by_id_and_email_and_emails_are_unique(store: Store) -> None:
    user_id = await _user(store)
    async with store.transaction(readonly=True) as tx:
        by_id = await tx.accounts.user(user_id)
        by_email = await tx.accounts.user_by_email("li@example.com")
        missing = await tx.accounts.user_by_email("nobody@example.com")
    assert by_id == by_email
    assert by_id is not None
    assert (by_id.name, by_id.failed_logins, by_id.locked_until, by_id.created_at) == (
        "Li",
        0,
        None,
        T0,
    )
    assert missing is None
    with pytest.raises(IntegrityError):
        await _user(store)


async def test_login_state_and_password_are_kept(store: Store) -> None:
    user_id = await _user(store)
    async with store.transaction() as tx:
        await tx.accounts.set_login_state(user_id, failed_logins=3, locked_until=T0)
        await tx.accounts.set_password(user_id, "new-hash")
        await tx.accounts.set_locale(user_id, "zh")
    async with store.transaction(readonly=True) as tx:
        user = await tx.accounts.user(user_id)
    assert user is not None
    assert (user.failed_logins, user.locked_until, user.password_hash, user.locale) == (
        3,
        T0,
        "new-hash",
        "zh",
    )


async def test_a_grant_replaces_the_role_and_a_revoke_ends_it(store: Store) -> None:
    user_id = await _user(store)
    async with store.transaction() as tx:
        shop = await make_tenant(tx, "shop")
        other = await make_tenant(tx, "other")
        await tx.accounts.grant(Membership(user_id, shop.id, Role.VIEWER, None, T0))
        await tx.accounts.grant(Membership(user_id, shop.id, Role.TENANT_ADMIN, None, T0))
        await tx.accounts.grant(Membership(user_id, other.id, Role.VIEWER, None, T0))
    async with store.transaction() as tx:
        roles = {m.tenant_id: m.role for m in await tx.accounts.memberships_of(user_id)}
        members = await tx.accounts.members(shop.id)
        assert await tx.accounts.revoke(user_id, other.id) is True
        assert await tx.accounts.revoke(user_id, other.id) is False
        left = await tx.accounts.memberships_of(user_id)
        gone = await tx.accounts.membership(user_id, other.id)
    assert roles == {shop.id: Role.TENANT_ADMIN, other.id: Role.VIEWER}
    assert [(u.email, m.role) for u, m in members] == [("li@example.com", Role.TENANT_ADMIN)]
    assert [m.tenant_id for m in left] == [shop.id]
    assert gone is None


async def test_sessions_end_one_by_one_everywhere_and_when_expired(store: Store) -> None:
    user_id = await _user(store)

    def session(name: str, hours: int) -> WebSession:
        return WebSession(name.ljust(64, "0"), user_id, "csrf", T0, T0 + timedelta(hours=hours))

    a, b, c, old = session("a", 12), session("b", 12), session("c", 12), session("d", 1)
    async with store.transaction() as tx:
        for s in (a, b, c, old):
            await tx.accounts.add_session(s)
    async with store.transaction() as tx:
        assert await tx.accounts.session(a.token_hash) == a
        await tx.accounts.end_session(a.token_hash)
        assert await tx.accounts.session(a.token_hash) is None
        assert await tx.accounts.purge_sessions(T0 + timedelta(hours=2)) == 1
        assert await tx.accounts.end_sessions(user_id, keep=b.token_hash) == 1
        assert await tx.accounts.session(b.token_hash) == b
        assert await tx.accounts.session(c.token_hash) is None
        assert await tx.accounts.end_sessions(user_id) == 1
