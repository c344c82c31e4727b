"""A person at the dashboard in Chromium: signs in with the keyboard, opens a shop, signs out.

Writes a screenshot of every page in both languages to ``docs/screenshots/``
(committed; README links them). Needs Debian's Chromium (see
``test_webchat_browser``): skips locally without it, fails on CI.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from tests.e2e.test_api_campaigns import setup_audience
from tests.support.api import say
from tests.support.live import live_server

from kindbot.bootstrap import Container
from kindbot.core.records.accounts import Role
from kindbot.ops.accounts import add_user, grant_role

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "a long enough password"
SLOW = 20_000
"""Milliseconds to wait where two Chromiums and a server share the machine with other
test workers (a suspension's refusal, the live chat's connection)."""


@pytest.fixture
def container_backend() -> str:
    """SQLite only: these tests check the screens in a browser; every page's service runs
    on both backends in the HTTP tests of the same pages (``test_dashboard_*.py``)."""
    return "sqlite"


async def _owner(container: Container) -> None:
    now = container.clock.now()
    await add_user(
        container.store, email="owner@teashop.cn", name="林店长", password=PASSWORD, now=now
    )
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
    assert tenant is not None
    await grant_role(
        container.store,
        email="owner@teashop.cn",
        tenant=tenant,
        role=Role.TENANT_ADMIN,
        actor="t",
        now=now,
    )


async def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_sign_in_by_keyboard_open_the_shop_and_sign_out(
    container: Container, browser: Browser, locale: str
) -> None:
    await _owner(container)
    lang = locale[:2]
    async with live_server(container) as base_url:
        context = await browser.new_context(locale=locale, viewport={"width": 1440, "height": 900})
        page = await context.new_page()
        await page.goto(f"{base_url}/dashboard/teashop")
        await expect(page).to_have_url(f"{base_url}/login?next=%2Fdashboard%2Fteashop")
        await _shot(page, f"login-{lang}")

        await page.get_by_label("邮箱" if lang == "zh" else "Email").focus()
        await page.keyboard.type("owner@teashop.cn")
        await page.keyboard.press("Tab")
        await page.keyboard.type(PASSWORD)
        await page.keyboard.press("Enter")

        await expect(page).to_have_url(f"{base_url}/dashboard/teashop")
        await expect(page.locator("h1")).to_contain_text("山间茶舍")
        await expect(page.locator("table").first).to_contain_text("/channels/teashop.")
        await _shot(page, f"shop-{lang}")

        await page.goto(f"{base_url}/dashboard")
        await expect(page.locator(".shops")).to_contain_text("山间茶舍")
        await _shot(page, f"shops-{lang}")
        await page.goto(f"{base_url}/account")
        await _shot(page, f"account-{lang}")

        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto(f"{base_url}/dashboard/teashop")
        await _shot(page, f"shop-phone-{lang}")

        await page.get_by_role("button", name="退出登录" if lang == "zh" else "Sign out").click()
        await expect(page).to_have_url(f"{base_url}/login")
        await page.goto(f"{base_url}/dashboard/teashop")
        await expect(page).to_have_url(f"{base_url}/login?next=%2Fdashboard%2Fteashop")
        await context.close()


async def _denied_by_suspension(container: Container) -> int:
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        entries = await tx.audit.entries(tenant.id, 0, 100_000)
    return sum(e.rule == "tenant_status" and e.decision == "deny" for e in entries)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_platform_admin_suspends_a_shop_and_its_web_chat_stops_answering(
    container: Container, browser: Browser, locale: str
) -> None:
    lang = locale[:2]
    await add_user(
        container.store,
        email="ops@kindbot.dev",
        name="Ops",
        password=PASSWORD,
        platform_admin=True,
        now=container.clock.now(),
    )
    async with live_server(container) as base_url:
        customer = await browser.new_page(locale="zh-CN")
        await customer.goto(f"{base_url}/chat/teashop.web")
        connected = expect(customer.locator("body"))
        await connected.to_have_attribute("data-connected", "true", timeout=SLOW)
        await customer.fill("#input", "茶叶怎么保存？")
        await customer.click("#send")
        await expect(customer.locator(".msg.outbound")).to_have_count(1, timeout=SLOW)

        admin = await _signed_in(browser, base_url, locale, "/admin", "ops@kindbot.dev")
        context = admin.context
        await _shot(admin, f"admin-{lang}")
        await admin.fill("#reason-teashop-suspend", "gambling ads in replies")
        await admin.get_by_role("button", name="暂停" if lang == "zh" else "Suspend").click()
        await expect(admin.locator(".notice")).to_contain_text("active → suspended", timeout=SLOW)

        denied_before = await _denied_by_suspension(container)
        await customer.fill("#input", "运费怎么算？")
        await customer.click("#send")
        await expect(customer.locator(".msg.inbound")).to_have_count(2, timeout=SLOW)
        for _ in range(300):  # the reply is decided (and refused) within a moment
            if await _denied_by_suspension(container) > denied_before:
                break
            await customer.wait_for_timeout(100)
        assert await _denied_by_suspension(container) > denied_before
        await expect(customer.locator(".msg.outbound")).to_have_count(1, timeout=SLOW)
        await context.close()
        await customer.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_shop_admin_edits_an_entry_and_the_test_box_answers_with_it(
    container: Container, browser: Browser, locale: str
) -> None:
    await _owner(container)
    lang = locale[:2]
    async with live_server(container) as base_url:
        page = await _signed_in(
            browser, base_url, locale, "/dashboard/teashop/kb", "owner@teashop.cn"
        )
        context = page.context

        await page.fill("#test", "茶叶怎么保存？")
        await page.press("#test", "Enter")
        await page.locator("#test-result tbody tr").first.get_by_role("link").click()
        row = page.locator("table.entries tbody tr").first
        await row.get_by_role("link", name="编辑" if lang == "zh" else "Edit").click()
        await expect(page.locator("#answer")).not_to_be_empty()
        await page.fill("#answer", "请密封后放冰箱冷藏，避光防潮；开封后一个月内喝完。")
        await page.get_by_role(
            "button", name="保存" if lang == "zh" else "Save", exact=True
        ).click()

        await page.fill("#test", "茶叶怎么保存？")
        await page.press("#test", "Enter")
        await expect(page.locator("#test-result .answer")).to_contain_text("一个月内喝完")
        await _shot(page, f"kb-{lang}")
        await page.goto(f"{base_url}/dashboard/teashop/kb/unanswered")
        await _shot(page, f"unanswered-{lang}")
        await context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_an_agent_sees_a_waiting_customer_live_claims_and_answers(
    container: Container, browser: Browser, locale: str
) -> None:
    lang = locale[:2]
    now = container.clock.now()
    await add_user(container.store, email="lin@teashop.cn", name="小林", password=PASSWORD, now=now)
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
    assert tenant is not None
    await grant_role(
        container.store, email="lin@teashop.cn", tenant=tenant, role=Role.AGENT, actor="t", now=now
    )
    async with live_server(container) as base_url:
        agent = await _signed_in(
            browser, base_url, locale, "/dashboard/teashop/inbox", "lin@teashop.cn"
        )
        context = agent.context
        await expect(agent.locator(".inbox")).to_have_attribute("data-live", "true")
        await expect(agent.locator(".nobody")).to_be_visible()

        customer = await browser.new_page(locale="zh-CN")
        await customer.goto(f"{base_url}/chat/teashop.web")
        await expect(customer.locator("body")).to_have_attribute("data-connected", "true")
        await customer.fill("#input", "人工")
        await customer.click("#send")

        waiting = agent.locator("#inbox-list li a").first  # arrives without a reload
        await expect(waiting).to_be_visible()
        await waiting.click()
        await agent.get_by_role("button", name="接入" if lang == "zh" else "Claim").click()
        await agent.fill("#reply-text", "您好，我是客服小林，请问有什么可以帮您？")
        await agent.get_by_role(
            "button", name="发送" if lang == "zh" else "Send", exact=True
        ).click()
        await expect(agent.locator(".messages")).to_contain_text("我是客服小林")

        # the outbox worker (in-process under `kindbot serve`) delivers the agent's reply
        assert await container.outbox_worker.run_once() >= 1
        await expect(customer.locator(".msg.outbound").last).to_contain_text("我是客服小林")
        await customer.fill("#input", "我的订单还没到")
        await customer.click("#send")
        await expect(agent.locator(".messages")).to_contain_text("我的订单还没到")  # live
        await _shot(agent, f"inbox-{lang}")
        await agent.set_viewport_size({"width": 390, "height": 844})
        await _shot(agent, f"inbox-phone-{lang}")
        await context.close()
        await customer.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_the_overview_shows_users_times_value_per_user(
    container: Container, browser: Browser, locale: str
) -> None:
    await _owner(container)
    lang = locale[:2]
    orders = [
        order(f"o{n}", f"buyer{n % 9}", f"2026-11-{10 + n % 14:02d}T10:00:00", 48 + n * 3)
        for n in range(40)
    ]
    async with live_server(container) as base_url, httpx.AsyncClient(base_url=base_url) as api:
        await _store_events(api, container, orders)
        page = await _signed_in(
            browser, base_url, locale, "/dashboard/teashop/overview", "owner@teashop.cn"
        )
        context = page.context
        await page.fill("#from", "2026-11-09")
        await page.fill("#to", "2026-11-23")
        await page.get_by_role("button", name="查看" if lang == "zh" else "Show").click()
        await expect(page.locator("#m-active")).to_have_text("9")
        await expect(page.locator("#m-revenue")).not_to_have_text("¥0.00")
        await _shot(page, f"overview-{lang}")
        await context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_the_analytics_page_draws_its_charts_under_the_csp(
    container: Container, browser: Browser, locale: str
) -> None:
    await _owner(container)
    lang = locale[:2]
    orders = [
        order(
            f"o{n}",
            f"buyer{n % 23}",
            f"2026-{10 + n % 2}-{1 + n % 27:02d}T10:00:00",
            38 + n % 7 * 11,
        )
        for n in range(120)
    ]
    async with live_server(container) as base_url, httpx.AsyncClient(base_url=base_url) as api:
        await _store_events(api, container, orders)
        target = "/dashboard/teashop/analytics"
        page = await _signed_in(browser, base_url, locale, target, "owner@teashop.cn")
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
        await page.goto(f"{base_url}{target}?from=2026-10-01&to=2026-12-01")
        for chart in ("series", "funnel", "repurchase", "retention"):
            await expect(page.locator(f"#chart-{chart} canvas")).to_have_count(1)
        await expect(page.locator("#m-active")).to_have_text("23")
        await _shot(page, f"analytics-{lang}")
        await page.select_option("#channel", "hook")
        await page.get_by_role("button", name="查看" if lang == "zh" else "Show").click()
        await expect(page).to_have_url(re.compile(r"channel=hook"))
        await expect(page.locator("#chart-series canvas")).to_have_count(1)
        await page.go_back()
        assert refused == []
        await page.context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_shop_admin_tightens_a_guard_limit_on_the_settings_page(
    container: Container, browser: Browser, locale: str
) -> None:
    await _owner(container)
    lang = locale[:2]
    async with live_server(container) as base_url:
        target = "/dashboard/teashop/settings"
        page = await _signed_in(browser, base_url, locale, target, "owner@teashop.cn")
        await expect(page.locator("code", has_text="demo-webhook-secret")).to_have_count(1)
        await page.get_by_label(
            "每位联系人每月主动消息数" if lang == "zh" else "per contact per month"
        ).fill("2")
        await page.get_by_role("button", name="保存" if lang == "zh" else "Save").click()
        await expect(page.locator("#guard-result")).to_be_visible()
        await expect(page.locator("#per_contact_month")).to_have_value("2")
        await _shot(page, f"settings-{lang}")
        await page.context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_shop_admin_finds_a_contact_and_reads_its_timeline(
    container: Container, browser: Browser, locale: str
) -> None:
    await _owner(container)
    lang = locale[:2]
    async with live_server(container) as base_url, httpx.AsyncClient(base_url=base_url) as api:
        for n, (user, text) in enumerate(
            [("zoe", "你好，龙井还有货吗？"), ("amy", "发货要几天"), ("bob", "hello")]
        ):
            await say(api, user, text, f"m{n}")
        orders = [order(f"o{n}", "zoe", f"2026-11-2{n}T10:00:00", 88 + n * 40) for n in range(3)]
        await _store_events(api, container, orders)
        page = await _signed_in(
            browser, base_url, locale, "/dashboard/teashop/contacts", "owner@teashop.cn"
        )
        await page.fill("#min_orders", "1")
        await page.press("#min_orders", "Enter")
        await expect(page.locator("#contact-list tbody tr")).to_have_count(1)
        await _shot(page, f"contacts-{lang}")
        await page.get_by_role("link", name="zoe").click()
        await expect(page.locator(".timeline li")).not_to_have_count(0)
        await page.fill("#new-tag", "vip")
        await page.press("#new-tag", "Enter")
        await expect(page.locator(".inline-list .badge", has_text="vip")).to_have_count(1)
        await _shot(page, f"contact-{lang}")
        await page.context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_campaign_shows_its_plan_progress_and_report(
    container: Container, browser: Browser, locale: str
) -> None:
    await _owner(container)
    lang = locale[:2]
    async with live_server(container) as base_url, httpx.AsyncClient(base_url=base_url) as api:
        key = {"Authorization": f"Bearer {container.admin_token}"}
        await setup_audience(api, key, container)
        segment = {"name": "vips", "definition": {"all_of": [{"tags": {"all": ["vip"]}}]}}
        made = await api.post("/api/v1/tenants/teashop/segments", headers=key, json=segment)
        assert made.status_code == 201, made.text
        page = await _signed_in(
            browser, base_url, locale, "/dashboard/teashop/campaigns", "owner@teashop.cn"
        )
        await page.fill("#c-name", "明前龙井上新" if lang == "zh" else "Spring tea")
        await page.fill("#c-topic", "new-tea")
        await page.fill("#c-a", "明前龙井到了，回复 TD 退订。")
        await page.fill("#c-holdout", "20")
        await page.get_by_role(
            "button", name="规划活动" if lang == "zh" else "Plan the campaign"
        ).click()
        await expect(page.locator("#chart-plan canvas")).to_have_count(1)
        await expect(page.locator("#n-holdout")).to_have_text("2")
        await _shot(page, f"campaign-{lang}")
        await page.context.close()


def order(event_id: str, user: str, local: str, amount: int) -> dict[str, str]:
    """An order on the webhook channel at ``local`` (Asia/Shanghai)."""
    return {
        "event_id": event_id,
        "type": "order",
        "occurred_at": f"{local}+08:00",
        "channel": "hook",
        "external_id": user,
        "amount": f"{amount}.00",
    }


async def _store_events(
    api: httpx.AsyncClient, container: Container, events: list[dict[str, str]]
) -> None:
    stored = await api.post(
        "/api/v1/tenants/teashop/events",
        json={"events": events},
        headers={"Authorization": f"Bearer {container.admin_token}"},
    )
    assert stored.status_code == 200, stored.text


async def _signed_in_owner(browser: Browser, base_url: str, locale: str, target: str) -> Page:
    return await _signed_in(browser, base_url, locale, target, "owner@teashop.cn")


async def _signed_in(browser: Browser, base_url: str, locale: str, target: str, email: str) -> Page:
    """A new 1440 px browser context, signed in as ``email`` by the form, at ``target``."""
    context = await browser.new_context(locale=locale, viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    await page.goto(f"{base_url}/login?next={target}")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.press("#password", "Enter")
    await expect(page).to_have_url(f"{base_url}{target}")
    return page


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_shop_admin_filters_the_audit_log_and_verifies_the_chain(
    container: Container, browser: Browser, locale: str
) -> None:
    await _owner(container)
    lang = locale[:2]
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        await tx.violations.record(
            tenant_id=tenant.id,
            at=container.clock.now(),
            rule="quiet_hours",
            severity="low",
            weight=1,
            subject="contact:demo",
        )
    async with live_server(container) as base_url, httpx.AsyncClient(base_url=base_url) as api:
        await say(api, "zoe", "茶叶怎么保存？", "m1")
        await say(api, "amy", "你们几点发货", "m2")
        page = await _signed_in_owner(browser, base_url, locale, "/dashboard/teashop")
        await page.get_by_role("link", name="合规" if lang == "zh" else "Compliance").click()
        await expect(page).to_have_url(f"{base_url}/dashboard/teashop/compliance")

        await page.get_by_label("类型" if lang == "zh" else "Type").select_option("outbound")
        await page.get_by_role("button", name="筛选" if lang == "zh" else "Filter").click()
        kinds = page.locator("table.audit tbody td:nth-child(3)")
        await expect(kinds).to_have_count(2)
        await expect(kinds.first).to_have_text("outbound")
        await page.get_by_role(
            "button", name="校验哈希链" if lang == "zh" else "Verify the chain"
        ).click()
        await expect(page.locator("#verified")).to_contain_text(
            "哈希链完整" if lang == "zh" else "chain intact"
        )
        await expect(kinds).to_have_count(2)  # the filter stays
        await _shot(page, f"compliance-{lang}")
        await page.set_viewport_size({"width": 390, "height": 844})
        await _shot(page, f"compliance-phone-{lang}")
        await page.context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_shop_admin_opens_the_flows_and_sees_a_conversation_in_one(
    container: Container, browser: Browser, locale: str
) -> None:
    await _owner(container)
    lang = locale[:2]
    async with live_server(container) as base_url, httpx.AsyncClient(base_url=base_url) as api:
        await say(api, "zoe", "请给我回电", "m1")
        page = await _signed_in_owner(browser, base_url, locale, "/dashboard/teashop")
        await page.get_by_role("link", name="多轮流程" if lang == "zh" else "Flows").click()
        await expect(page).to_have_url(f"{base_url}/dashboard/teashop/flows")
        diagram = page.get_by_role("img", name="callback")
        await expect(diagram).to_be_visible()
        await expect(diagram.locator("g.state")).to_have_count(4)
        await expect(page.locator("ol.transitions li")).to_have_count(3)
        await expect(page.locator("table.runs tbody")).to_contain_text("ask_phone")
        await _shot(page, f"flows-{lang}")
        await page.set_viewport_size({"width": 390, "height": 844})
        await _shot(page, f"flows-phone-{lang}")
        await page.context.close()
