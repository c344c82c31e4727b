"""A shop's members in the dashboard: invitations by link, roles, removal, the last admin."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from tests.e2e.test_dashboard_accounts import PASSWORD, _csrf_of, _member, _sign_in
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container
from kindbot.core.records.accounts import Role
from kindbot.ops.accounts import add_user, grant_role
from kindbot.ops.invitations import INVITATION_TTL, check_role_change
from kindbot.web.app import build_app


def _client(container: Container) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=build_app(container))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def _invite(client: httpx.AsyncClient, email: str, role: str) -> str:
    page = await client.get("/dashboard/teashop/members")
    assert page.status_code == 200
    done = await client.post(
        "/dashboard/teashop/members/invite",
        data={"email": email, "role": role, "csrf": _csrf_of(page)},
    )
    assert done.status_code == 200, done.text
    found = re.search(r'<code id="invite-link">http://test(/invite/[^<]+)</code>', done.text)
    assert found, "the link is shown once"
    return found.group(1)


async def _roles(container: Container) -> dict[str, Role]:
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        return {u.email: m.role for u, m in await tx.accounts.members(tenant.id)}


async def test_a_newcomer_joins_by_the_link_once_and_signs_in(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "owner@teashop.cn", Role.TENANT_ADMIN)
    await _sign_in(client, "owner@teashop.cn")
    link = await _invite(client, "New.Agent@teashop.cn", "agent")

    async with _client(container) as newcomer:
        form = await newcomer.get(link, headers={"accept-language": "en"})
        assert form.status_code == 200
        assert "new.agent@teashop.cn" in form.text
        assert "Agent" in form.text
        short = await newcomer.post(
            link, data={"name": "小王", "password": "short", "csrf": _csrf_of(form)}
        )
        assert short.status_code == 400
        joined = await newcomer.post(
            link, data={"name": "小王", "password": PASSWORD, "csrf": _csrf_of(short)}
        )
        assert joined.status_code == 303
        assert (await _sign_in(newcomer, "new.agent@teashop.cn")).status_code == 303
        shop = await newcomer.get("/dashboard/teashop", headers={"accept-language": "en"})
        assert shop.status_code == 200
        assert "Agent" in shop.text
        assert (await newcomer.get("/dashboard/teashop/members")).status_code == 403
        again = await newcomer.get(link)
        assert again.status_code == 404

    assert (await _roles(container))["new.agent@teashop.cn"] is Role.AGENT
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        agents = [a.name for a in await tx.agents.list(tenant.id)]
        entries = await tx.audit.entries(tenant.id, 0, 10_000)
    assert "new.agent@teashop.cn" in agents
    decisions = [e.decision for e in entries if e.kind == "account"]
    assert decisions[-2:] == ["invited", "joined"]


async def test_an_existing_user_signs_in_first_and_joins_with_one_click(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "owner@teashop.cn", Role.TENANT_ADMIN)
    await _member(container, "helper@example.com", None)
    await _member(container, "stranger@example.com", None)
    await _sign_in(client, "owner@teashop.cn")
    link = await _invite(client, "helper@example.com", "viewer")

    async with _client(container) as other:
        assert "sign in first" in (await other.get(link, headers={"accept-language": "en"})).text
        await _sign_in(other, "stranger@example.com")
        page = await other.get(link)
        wrong = await other.post(link, data={"csrf": _csrf_of(page)})
        assert wrong.status_code == 409
        assert "this invitation is for helper@example.com" in wrong.text
    async with _client(container) as helper:
        await _sign_in(helper, "helper@example.com")
        page = await helper.get(link)
        assert (await helper.post(link, data={"csrf": _csrf_of(page)})).status_code == 303
        assert (await helper.get("/dashboard/teashop")).status_code == 200
    roles = await _roles(container)
    assert roles["helper@example.com"] is Role.VIEWER
    assert "stranger@example.com" not in roles


async def test_roles_change_members_leave_and_the_last_admin_stays(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "owner@teashop.cn", Role.TENANT_ADMIN)
    await _member(container, "agent@teashop.cn", Role.AGENT)
    await _sign_in(client, "owner@teashop.cn")
    async with container.store.transaction(readonly=True) as tx:
        owner = await tx.accounts.user_by_email("owner@teashop.cn")
        agent = await tx.accounts.user_by_email("agent@teashop.cn")
    assert owner is not None
    assert agent is not None
    page = await client.get("/dashboard/teashop/members")
    csrf = _csrf_of(page)

    demote_self = await client.post(
        f"/dashboard/teashop/members/{owner.id}/role", data={"role": "viewer", "csrf": csrf}
    )
    assert demote_self.status_code == 400
    assert "at least one shop admin" in demote_self.text
    leave = await client.post(f"/dashboard/teashop/members/{owner.id}/remove", data={"csrf": csrf})
    assert leave.status_code == 400
    promote = await client.post(
        f"/dashboard/teashop/members/{agent.id}/role", data={"role": "tenant_admin", "csrf": csrf}
    )
    assert promote.status_code == 200
    removed = await client.post(
        f"/dashboard/teashop/members/{owner.id}/remove", data={"csrf": csrf}
    )
    assert removed.status_code == 200
    assert await _roles(container) == {"agent@teashop.cn": Role.TENANT_ADMIN}
    assert (await client.get("/dashboard/teashop")).status_code == 404  # no longer a member
    assert (
        await client.post(f"/dashboard/teashop/members/{agent.id}/remove", data={"csrf": csrf})
    ).status_code == 404


async def test_withdrawn_and_expired_invitations_stop_working(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "owner@teashop.cn", Role.TENANT_ADMIN)
    await _sign_in(client, "owner@teashop.cn")
    withdrawn = await _invite(client, "a@example.com", "viewer")
    expiring = await _invite(client, "b@example.com", "viewer")
    page = await client.get("/dashboard/teashop/members")
    hashes = re.findall(r"/dashboard/teashop/invitations/([0-9a-f]{64})/withdraw", page.text)
    assert len(hashes) == 2
    async with container.store.transaction(readonly=True) as tx:
        first = await tx.accounts.invitation(hashes[0])
    assert first is not None
    assert first.email == "a@example.com"
    done = await client.post(
        f"/dashboard/teashop/invitations/{hashes[0]}/withdraw", data={"csrf": _csrf_of(page)}
    )
    assert done.status_code == 200
    assert "a@example.com" not in done.text
    assert (await client.get(withdrawn)).status_code == 404

    assert (await client.get(expiring)).status_code == 200
    assert isinstance(container.clock, FakeClock)
    container.clock.advance(INVITATION_TTL + timedelta(seconds=1))
    assert (await client.get(expiring)).status_code == 404
    assert (await client.get("/invite/not-a-real-token")).status_code == 404


async def test_only_shop_admins_manage_members(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "agent@teashop.cn", Role.AGENT)
    await _sign_in(client, "agent@teashop.cn")
    assert (await client.get("/dashboard/teashop/members")).status_code == 403
    shop = await client.get("/dashboard/teashop")
    refused = await client.post(
        "/dashboard/teashop/members/invite",
        data={"email": "friend@example.com", "role": "tenant_admin", "csrf": _csrf_of(shop)},
    )
    assert refused.status_code == 403
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        assert await tx.accounts.open_invitations(tenant.id, container.clock.now()) == []


@pytest.mark.parametrize(
    ("admins", "current", "new", "refused"),
    [
        (1, Role.TENANT_ADMIN, Role.VIEWER, True),
        (1, Role.TENANT_ADMIN, None, True),
        (1, Role.TENANT_ADMIN, Role.TENANT_ADMIN, False),
        (2, Role.TENANT_ADMIN, None, False),
        (1, Role.AGENT, None, False),
        (0, Role.VIEWER, Role.AGENT, False),
    ],
)
def test_the_last_shop_admin_cannot_leave_or_step_down(
    admins: int, current: Role, new: Role | None, refused: bool
) -> None:
    if refused:
        with pytest.raises(Exception, match="at least one shop admin"):
            check_role_change(admins, current, new)
    else:
        check_role_change(admins, current, new)


async def test_an_invitation_to_a_member_is_refused(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "owner@teashop.cn", Role.TENANT_ADMIN)
    now = container.clock.now()
    await add_user(container.store, email="c@example.com", name="c", password=PASSWORD, now=now)
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
    assert tenant is not None
    await grant_role(
        container.store, email="c@example.com", tenant=tenant, role=Role.VIEWER, actor="t", now=now
    )
    await _sign_in(client, "owner@teashop.cn")
    page = await client.get("/dashboard/teashop/members")
    again = await client.post(
        "/dashboard/teashop/members/invite",
        data={"email": "c@example.com", "role": "agent", "csrf": _csrf_of(page)},
    )
    assert again.status_code == 409
    assert "member already" in again.text
