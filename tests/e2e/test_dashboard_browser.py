"""A person at the dashboard in Chromium: signs in with the keyboard, opens a shop, signs out.

Writes a screenshot of every page in both languages to ``docs/screenshots/``
(committed; README links them). Needs Debian's Chromium (see
``test_webchat_browser``): skips locally without it, fails on CI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from tests.e2e.test_webchat_browser import CHROMIUM_FLAGS, chromium_path
from tests.support.live import live_server

from kindbot.bootstrap import Container
from kindbot.core.records.accounts import Role
from kindbot.ops.accounts import add_user, grant_role

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "a long enough password"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        await launched.close()


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
