"""Every dashboard page, audited in Chromium at 1440 px and 390 px: each control has a
label (an accessible name), text contrasts with its background by at least 4.5:1
(3:1 for large text), nothing overflows a phone's width except inside a scrolling
table, and the keyboard's focus is visible."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, Page
from tests.e2e.test_dashboard_browser import PASSWORD
from tests.support.api import say
from tests.support.live import live_server

from kindbot.bootstrap import Container
from kindbot.core.records.accounts import Role
from kindbot.ops.accounts import add_user, grant_role

PAGES = (
    "/dashboard",
    "/dashboard/teashop",
    "/dashboard/teashop/overview",
    "/dashboard/teashop/analytics",
    "/dashboard/teashop/inbox",
    "/dashboard/teashop/contacts",
    "/dashboard/teashop/kb",
    "/dashboard/teashop/flows",
    "/dashboard/teashop/compliance",
    "/dashboard/teashop/members",
    "/dashboard/teashop/settings",
    "/account",
    "/admin",
)

AUDIT = """() => {
  const problems = [];
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.name ? '[name=' + el.name + ']' : '');
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden';
  };
  for (const el of document.querySelectorAll('input, select, textarea, button')) {
    if (el.type === 'hidden' || !visible(el)) continue;
    const labels = el.labels ? [...el.labels] : [];
    const labelled = labels.some(l => l.textContent.trim())
      || (el.getAttribute('aria-label') || '').trim()
      || el.getAttribute('aria-labelledby')
      || (el.tagName === 'BUTTON' && el.textContent.trim());
    if (!labelled) problems.push('no label: ' + describe(el));
  }
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const c = [r, g, b].map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const parts = rgb(getComputedStyle(node).backgroundColor);
      if (parts.length >= 3 && (parts.length < 4 || parts[3] > 0.5)) return parts.slice(0, 3);
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el) || el.closest('[aria-hidden=true]')) continue;
    const style = getComputedStyle(el);
    const fg = rgb(style.color).slice(0, 3);
    const [a, b] = [luminance(fg), luminance(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      const excerpt = el.textContent.trim().slice(0, 30);
      problems.push('contrast ' + ratio.toFixed(2) + ': ' + describe(el) + ' "' + excerpt + '"');
    }
  }
  const width = document.documentElement.clientWidth;
  for (const el of document.querySelectorAll('main *')) {
    if (el.closest('.scroll') || !visible(el)) continue;
    if (el.getBoundingClientRect().right > width + 1) problems.push('overflows: ' + describe(el));
  }
  return [...new Set(problems)].slice(0, 20);
}"""


@pytest.fixture
def container_backend() -> str:
    """SQLite only: these tests check the screens in a browser; every page's service runs
    on both backends in the HTTP tests of the same pages (``test_dashboard_*.py``)."""
    return "sqlite"


async def _signed_in(browser: Browser, base_url: str, width: int) -> Page:
    context = await browser.new_context(
        locale="zh-CN", viewport={"width": width, "height": 900 if width > 500 else 844}
    )
    page = await context.new_page()
    await page.goto(f"{base_url}/login")
    await page.fill("#email", "owner@teashop.cn")
    await page.fill("#password", PASSWORD)
    await page.press("#password", "Enter")
    await page.wait_for_url(f"{base_url}/dashboard")
    return page


@pytest.mark.parametrize("width", [1440, 390])
async def test_every_page_has_labels_contrast_and_fits(
    container: Container, browser: Browser, width: int
) -> None:
    now = container.clock.now()
    await add_user(
        container.store,
        email="owner@teashop.cn",
        name="林店长",
        password=PASSWORD,
        platform_admin=True,
        now=now,
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
    async with live_server(container) as base_url, httpx.AsyncClient(base_url=base_url) as api:
        await say(api, "zoe", "人工", "m1")
        page = await _signed_in(browser, base_url, width)
        found = {}
        for path in PAGES:
            response = await page.goto(f"{base_url}{path}")
            assert response is not None
            assert response.status == 200, path
            problems = await page.evaluate(AUDIT)
            if problems:
                found[path] = problems
        # The audit finds what it looks for: a pale text, an unlabelled box, a wide block.
        planted = await page.evaluate(
            """(audit) => {
              const main = document.querySelector('main');
              const pale = document.createElement('p');
              pale.textContent = 'pale text';
              pale.style.color = '#bbbbbb';
              const box = document.createElement('input');
              box.id = 'planted';
              const wide = document.createElement('div');
              wide.textContent = 'wide';
              wide.style.width = '3000px';
              main.append(pale, box, wide);
              return (0, eval)(audit)();
            }""",
            AUDIT,
        )
        assert any(p.startswith("contrast") for p in planted), planted
        assert "no label: input#planted" in planted
        assert any(p.startswith("overflows") for p in planted), planted
        await page.goto(f"{base_url}/dashboard/teashop/inbox")
        await page.keyboard.press("Tab")
        outline = await page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        await page.context.close()
    assert found == {}
    assert outline not in ("", "none")
