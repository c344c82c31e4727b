"""A person's view: Chromium opens the chat page, asks, sees the answer, reloads, sees history.

Needs Debian's Chromium (``KINDBOT_TEST_CHROMIUM``, default /usr/bin/chromium);
without it the test skips locally and fails on CI.
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect
from tests.support.live import live_server

from kindbot.bootstrap import Container


async def test_ask_see_answer_reload_see_history(
    container: Container, browser: Browser, tmp_path: Path
) -> None:
    async with live_server(container) as base_url:
        page = await browser.new_page(locale="zh-CN")
        await page.goto(f"{base_url}/chat/teashop.web")
        await expect(page.locator("body")).to_have_attribute("data-connected", "true")
        await expect(page.locator("#title")).to_contain_text("山间茶舍")

        await page.fill("#input", "茶叶怎么保存？")
        await page.click("#send")

        answer = page.locator(".msg.outbound").first
        await expect(answer).to_contain_text("冷藏")
        await expect(answer).to_contain_text("AI")
        await expect(page.locator(".msg.inbound")).to_have_count(1)
        await page.screenshot(path=str(tmp_path / "chat.png"))

        await page.reload()
        await expect(page.locator("body")).to_have_attribute("data-ready", "true")
        await expect(page.locator(".msg.inbound")).to_have_count(1)
        await expect(page.locator(".msg.inbound")).to_contain_text("茶叶怎么保存")
        await expect(page.locator(".msg.outbound")).to_have_count(1)
        await expect(page.locator(".msg.outbound")).to_contain_text("冷藏")
        await page.close()


async def test_a_clarification_shows_buttons_that_answer(
    container: Container, browser: Browser
) -> None:
    async with live_server(container) as base_url:
        page = await browser.new_page(locale="zh-CN")
        await page.goto(f"{base_url}/chat/teashop.web")
        await expect(page.locator("body")).to_have_attribute("data-connected", "true")

        await page.fill("#input", "茶")  # shelf life, caffeine or brewing?
        await page.click("#send")

        buttons = page.locator(".msg.outbound .choice")
        await expect(buttons).to_have_count(3)
        await expect(buttons.nth(1)).to_have_text("哪种茶咖啡因比较少？")
        await buttons.nth(1).click()

        await expect(page.locator(".msg.inbound").nth(1).locator(".text")).to_have_text("2")
        await expect(page.locator(".msg.outbound").nth(1)).to_contain_text("草本花茶")
        await page.close()
