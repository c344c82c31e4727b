"""The dashboard's doors: sign in, lockout, CSRF, tenant and role checks, headers, languages.

Driven over HTTP against the real app and composition root (both backends).
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from tests.contracts.builders import make_tenant
from tests.support.clock import FakeClock
from tests.support.routes import walk_routes

from kindbot.bootstrap import Container
from kindbot.core.records.accounts import Role
from kindbot.ops.accounts import LOCKOUT, MAX_FAILURES, add_user, grant_role
from kindbot.web.app import build_app

PASSWORD = "correct horse battery"


async def _member(
    container: Container, email: str, role: Role | None, slug: str = "teashop"
) -> None:
    now = container.clock.now()
    await add_user(
        container.store, email=email, name=email.split("@")[0], password=PASSWORD, now=now
    )
    if role is not None:
        async with container.store.transaction(readonly=True) as tx:
            tenant = await tx.tenants.get_by_slug(slug)
        assert tenant is not None
        await grant_role(
            container.store, email=email, tenant=tenant, role=role, actor="test", now=now
        )


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} field"
    return found.group(1)


async def _sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, next: str = "/dashboard"
) -> httpx.Response:
    form = await client.get(f"/login?next={next}")
    csrf = _field(form.text, "csrf")
    return await client.post(
        "/login", data={"email": email, "password": password, "csrf": csrf, "next": next}
    )


def _csrf_of(page: httpx.Response) -> str:
    return _field(page.text, "csrf")


async def test_sign_in_opens_the_shop_and_sign_out_ends_the_session(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "owner@teashop.cn", Role.TENANT_ADMIN)
    assert (
        (await client.get("/dashboard/teashop"))
        .headers["location"]
        .startswith("/login?next=%2Fdashboard%2Fteashop")
    )

    signed_in = await _sign_in(client, "Owner@Teashop.cn", next="/dashboard/teashop")
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/dashboard/teashop"
    cookie = signed_in.headers["set-cookie"]
    assert "kb_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie

    shop = await client.get("/dashboard/teashop", headers={"accept-language": "zh-CN"})
    assert shop.status_code == 200
    assert "山间茶舍" in shop.text
    assert "店铺管理员" in shop.text
    assert "/channels/teashop.hook/callback" in shop.text or "/callback" in shop.text
    assert "owner@teashop.cn" in shop.text  # the members list (admins only)

    out = await client.post("/logout", data={"csrf": _csrf_of(shop)})
    assert out.status_code == 303
    client.cookies.clear()
    assert (await client.get("/dashboard")).status_code == 303


async def test_wrong_passwords_lock_the_account_and_the_lock_is_audited(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "agent@teashop.cn", Role.AGENT)
    for _ in range(MAX_FAILURES - 1):
        wrong = await _sign_in(client, "agent@teashop.cn", "not the password")
        assert wrong.status_code == 401
        assert "Wrong email or password" in wrong.text
    unknown = await _sign_in(client, "ghost@teashop.cn", "not the password")
    assert unknown.status_code == 401
    assert "Wrong email or password" in unknown.text

    locking = await _sign_in(client, "agent@teashop.cn", "not the password")
    assert locking.status_code == 401
    assert "locked until" in locking.text
    refused = await _sign_in(client, "agent@teashop.cn")  # even the right password
    assert refused.status_code == 401
    assert "locked until" in refused.text

    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        entries = await tx.audit.entries(tenant.id, 0, 10_000)
    locks = [e for e in entries if e.kind == "account" and e.decision == "locked"]
    assert [e.subject for e in locks] == ["agent@teashop.cn"]

    assert isinstance(container.clock, FakeClock)
    container.clock.advance(LOCKOUT + timedelta(seconds=1))
    assert (await _sign_in(client, "agent@teashop.cn")).status_code == 303


async def test_forms_without_the_csrf_token_change_nothing(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "owner@teashop.cn", Role.TENANT_ADMIN)
    no_cookie = await client.post(
        "/login", data={"email": "owner@teashop.cn", "password": PASSWORD, "csrf": "forged"}
    )
    assert no_cookie.status_code == 403
    assert "kb_session" not in no_cookie.headers.get("set-cookie", "")

    assert (await _sign_in(client, "owner@teashop.cn")).status_code == 303
    assert (await client.post("/logout", data={"csrf": "forged"})).status_code == 403
    changed = await client.post(
        "/account/password", data={"current": PASSWORD, "new": "another long password"}
    )
    assert changed.status_code == 403
    assert (await client.get("/dashboard")).status_code == 200  # still signed in
    client.cookies.clear()
    assert (await _sign_in(client, "owner@teashop.cn")).status_code == 303  # password unchanged


async def test_a_password_change_signs_out_the_other_sessions(container: Container) -> None:
    await _member(container, "owner@teashop.cn", Role.TENANT_ADMIN)
    app = build_app(container)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as b,
    ):
        await _sign_in(a, "owner@teashop.cn")
        await _sign_in(b, "owner@teashop.cn")
        page = await a.get("/account")
        short = await a.post(
            "/account/password", data={"current": PASSWORD, "new": "short", "csrf": _csrf_of(page)}
        )
        assert short.status_code == 400
        assert "10 to 256" in short.text
        done = await a.post(
            "/account/password",
            data={"current": PASSWORD, "new": "another long password", "csrf": _csrf_of(page)},
        )
        assert done.status_code == 200
        assert "Password changed" in done.text
        assert (await a.get("/dashboard")).status_code == 200
        assert (await b.get("/dashboard")).status_code == 303


def _shop_pages() -> list[str]:
    """Every GET page of a shop the app serves (found through included routers)."""
    return sorted(
        path
        for method, path in walk_routes(build_app().routes)
        if method == "GET" and "{slug}" in path and path.startswith("/dashboard")
    )


async def test_every_shop_page_refuses_users_of_other_shops(
    container: Container, client: httpx.AsyncClient
) -> None:
    async with container.store.transaction() as tx:
        await make_tenant(tx, "rival")
    await _member(container, "rival@rival.cn", Role.TENANT_ADMIN, slug="rival")
    await _member(container, "nobody@example.com", None)
    pages = _shop_pages()
    assert "/dashboard/{slug}" in pages

    for email in ("rival@rival.cn", "nobody@example.com"):
        client.cookies.clear()
        assert (await _sign_in(client, email)).status_code == 303
        listing = await client.get("/dashboard")
        assert "teashop" not in listing.text
        for path in pages:
            for slug in ("teashop", "no-such-shop"):
                refused = await client.get(path.replace("{slug}", slug))
                assert refused.status_code == 404, (email, path)
                assert "山间茶舍" not in refused.text


async def test_a_viewer_sees_the_shop_without_members_or_secrets(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "viewer@teashop.cn", Role.VIEWER)
    await _sign_in(client, "viewer@teashop.cn")
    shop = await client.get("/dashboard/teashop", headers={"accept-language": "en"})
    assert shop.status_code == 200
    assert "Viewer" in shop.text
    assert "viewer@teashop.cn</td>" not in shop.text  # no members list


async def test_a_platform_admin_sees_every_shop(
    container: Container, client: httpx.AsyncClient
) -> None:
    await add_user(
        container.store,
        email="ops@kindbot.dev",
        name="Ops",
        password=PASSWORD,
        platform_admin=True,
        now=container.clock.now(),
    )
    await _sign_in(client, "ops@kindbot.dev")
    listing = await client.get("/dashboard", headers={"accept-language": "en"})
    assert "All shops" in listing.text
    assert "/dashboard/teashop" in listing.text
    assert (await client.get("/dashboard/teashop")).status_code == 200


async def test_pages_carry_the_security_headers_and_the_api_does_not_change(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    health = await client.get("/healthz")
    assert "content-security-policy" not in health.headers


@pytest.mark.parametrize(
    ("accept", "query", "expected"),
    [("zh-CN,zh;q=0.9", "", "登录"), ("en-US", "", "Sign in"), ("en-US", "?lang=zh", "登录")],
)
async def test_the_language_follows_the_browser_unless_chosen(
    client: httpx.AsyncClient, accept: str, query: str, expected: str
) -> None:
    page = await client.get(f"/login{query}", headers={"accept-language": accept})
    assert f"<h1>{expected}</h1>" in page.text
    if query:
        assert "kb_lang=zh" in page.headers["set-cookie"]
        again = await client.get("/login", headers={"accept-language": accept})
        assert f"<h1>{expected}</h1>" in again.text


async def _platform_admin(container: Container, client: httpx.AsyncClient) -> None:
    await add_user(
        container.store,
        email="ops@kindbot.dev",
        name="Ops",
        password=PASSWORD,
        platform_admin=True,
        now=container.clock.now(),
    )
    assert (await _sign_in(client, "ops@kindbot.dev")).status_code == 303


async def _status(container: Container) -> str:
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
    assert tenant is not None
    return tenant.status.value


async def test_the_platform_admin_suspends_and_reinstates_with_a_reason(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _platform_admin(container, client)
    page = await client.get("/admin", headers={"accept-language": "en"})
    assert page.status_code == 200
    assert "山间茶舍" in page.text
    assert "/admin/tenants/teashop/suspend" in page.text
    csrf = _csrf_of(page)

    no_reason = await client.post(
        "/admin/tenants/teashop/suspend", data={"csrf": csrf, "reason": " "}
    )
    assert no_reason.status_code == 400
    assert "a reason is required" in no_reason.text
    forged = await client.post("/admin/tenants/teashop/suspend", data={"reason": "spam"})
    assert forged.status_code == 403
    wrong = await client.post(
        "/admin/tenants/teashop/approve", data={"csrf": csrf, "reason": "looks fine"}
    )
    assert wrong.status_code == 409
    assert "already active" in wrong.text
    assert await _status(container) == "active"

    done = await client.post(
        "/admin/tenants/teashop/suspend", data={"csrf": csrf, "reason": "gambling ads"}
    )
    assert done.status_code == 200
    assert "active → suspended" in done.text
    assert await _status(container) == "suspended"
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        entries = await tx.audit.entries(tenant.id, 0, 10_000)
    assert '"actor": "user:ops@kindbot.dev"' in entries[-1].detail
    assert '"reason": "gambling ads"' in entries[-1].detail

    back = await client.post(
        "/admin/tenants/teashop/reinstate", data={"csrf": csrf, "reason": "appeal accepted"}
    )
    assert back.status_code == 200
    assert await _status(container) == "active"
    unknown = await client.post(
        "/admin/tenants/nowhere/suspend", data={"csrf": csrf, "reason": "x"}
    )
    assert unknown.status_code == 404


async def test_only_platform_admins_open_the_platform_page(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "owner@teashop.cn", Role.TENANT_ADMIN)
    assert (await client.get("/admin")).status_code == 303  # sign in first
    await _sign_in(client, "owner@teashop.cn")
    assert (await client.get("/admin")).status_code == 403
    shop = await client.get("/dashboard/teashop")
    refused = await client.post(
        "/admin/tenants/teashop/suspend", data={"csrf": _csrf_of(shop), "reason": "mine now"}
    )
    assert refused.status_code == 403
    assert await _status(container) == "active"


async def test_every_form_refuses_a_post_without_the_csrf_token(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _platform_admin(container, client)
    posts = sorted(
        path
        for method, path in walk_routes(build_app().routes)
        if method == "POST"
        and path != "/login"
        and not path.startswith("/api")
        and not path.startswith("/channels")
        and not path.startswith("/chat")
    )
    assert "/logout" in posts
    assert "/admin/tenants/{slug}/{action}" in posts
    for path in posts:
        url = re.sub(
            r"\{[^}]+\}", "x", path.replace("{slug}", "teashop").replace("{action}", "suspend")
        )
        refused = await client.post(url, data={"reason": "r", "current": PASSWORD, "new": "x" * 12})
        assert refused.status_code == 403, path
    assert await _status(container) == "active"
    assert (await client.get("/dashboard")).status_code == 200  # nothing signed out
