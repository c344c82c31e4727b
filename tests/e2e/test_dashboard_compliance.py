"""The compliance page: the audit log filtered and paged, the chain verified, standing, terms."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select, update
from tests.e2e.test_dashboard_accounts import _csrf_of, _member, _sign_in
from tests.support.api import say

from kindbot.bootstrap import Container
from kindbot.core.records.accounts import Role
from kindbot.core.records.audit import AuditDraft
from kindbot.core.records.moderation import TermAction
from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.moderation_terms import add_term
from kindbot.storage.schema import audit_entries

PAGE = "/dashboard/teashop/compliance"
VERIFY = f"{PAGE}/verify"
EN = {"accept-language": "en"}


async def _teashop(container: Container) -> TenantRecord:
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
    assert tenant is not None
    return tenant


async def _sealed(container: Container, tenant: TenantRecord) -> int:
    async with container.store.transaction(readonly=True) as tx:
        return len(await tx.audit.entries(tenant.id, 0, 100_000))


def _seqs(page: httpx.Response) -> list[int]:
    return [int(s) for s in re.findall(r'<td data-label="#">(\d+)</td>', page.text)]


def _older(page: httpx.Response) -> str:
    found = re.search(r'<a href="/dashboard/teashop/compliance\?([^"]+)" rel="next">', page.text)
    assert found, "a link to the older entries"
    return found.group(1).replace("&amp;", "&")


async def _admin(container: Container, client: httpx.AsyncClient) -> str:
    await _member(container, "owner@teashop.cn", Role.TENANT_ADMIN)
    await _sign_in(client, "owner@teashop.cn")
    return _csrf_of(await client.get(PAGE))


async def test_the_log_is_filtered_by_kind_decision_and_text_and_paged_newest_first(
    container: Container, client: httpx.AsyncClient
) -> None:
    tenant = await _teashop(container)
    now = container.clock.now()
    async with container.store.transaction() as tx:
        await tx.audit.add_pending(
            [
                AuditDraft(
                    tenant.id,
                    now + timedelta(seconds=n),
                    "export",
                    f"batch-{n:02d}",
                    "rights",
                    "deny" if n % 2 else "allow",
                    '{"reason_en": "exported", "reason_zh": "已导出"}',
                )
                for n in range(60)
            ]
        )
    await say(client, "zoe", "茶叶怎么保存？", "m1")  # inbound and outbound entries
    csrf = await _admin(container, client)

    first = await client.get(PAGE, params={"kind": "export"}, headers=EN)
    assert first.status_code == 200
    seqs = _seqs(first)
    assert len(seqs) == 50
    assert seqs == sorted(seqs, reverse=True), "newest first"
    assert first.text.count('<td data-label="Type">export</td>') == 50
    second = await client.get(f"{PAGE}?{_older(first)}", headers=EN)
    rest = _seqs(second)
    assert len(rest) == 10
    assert max(rest) < min(seqs)
    assert 'rel="next"' not in second.text, "the last page has no older link"
    assert "← Newest" in second.text

    verified = await client.post(f"{VERIFY}?{_older(first)}", data={"csrf": csrf}, headers=EN)
    assert "chain intact" in verified.text
    assert _seqs(verified) == rest, "verifying keeps the filters and the page"
    assert f'href="{PAGE}?kind=export' in verified.text, "links lead back to the page"

    denied = await client.get(PAGE, params={"kind": "export", "decision": "deny"})
    assert len(_seqs(denied)) == 30
    assert "verdict-allow" not in denied.text
    found = await client.get(PAGE, params={"q": "BATCH-1"}, headers=EN)
    assert len(_seqs(found)) == 10  # batch-10 … batch-19, any case
    assert "(Asia/Shanghai)" in found.text, "times in the shop's time zone"
    assert "exported" in found.text

    chinese = await client.get(PAGE, params={"q": "batch-1", "lang": "zh"})
    assert "已导出" in chinese.text
    assert "exported" not in chinese.text
    everything = await client.get(PAGE, params={"lang": "en"})  # remembered from here on
    assert '<option value="outbound">' in everything.text, "the kinds offered are the log's"
    assert '<option value="export">' in everything.text
    nothing = await client.get(PAGE, params={"q": "no such subject"}, headers=EN)
    assert "No entries match." in nothing.text
    for before in ("x'; drop", "²", "9" * 40, "-3"):
        odd = await client.get(PAGE, params={"before": before, "kind": "k" * 500})
        assert odd.status_code == 200, before


async def test_verify_reports_an_intact_chain_and_names_the_first_edited_entry(
    container: Container, client: httpx.AsyncClient
) -> None:
    await say(client, "zoe", "你好", "m1")
    csrf = await _admin(container, client)
    tenant = await _teashop(container)
    total = await _sealed(container, tenant)
    assert total > 3

    intact = await client.post(VERIFY, data={"csrf": csrf}, headers=EN)
    assert intact.status_code == 200
    assert f"{total} entries verified, chain intact." in intact.text
    chinese = await client.post(VERIFY, data={"csrf": csrf}, params={"lang": "zh"})
    assert f"已校验 {total} 条记录，哈希链完整。" in chinese.text

    row = (audit_entries.c.tenant_id == tenant.id) & (audit_entries.c.seq == 3)
    async with container.store.engine.begin() as conn:
        original = (await conn.execute(select(audit_entries.c.detail).where(row))).scalar_one()
        await conn.execute(update(audit_entries).where(row).values(detail='{"forged": true}'))
    try:
        broken = await client.post(VERIFY, data={"csrf": csrf}, params={"lang": "en"})
        assert broken.status_code == 200
        assert (
            "The chain is broken at entry 3: content does not match its hash (edited)."
            in broken.text
        )
        assert "chain intact" not in broken.text
    finally:  # put it back: the chain is checked after every test
        async with container.store.engine.begin() as conn:
            await conn.execute(update(audit_entries).where(row).values(detail=original))


async def test_agents_may_not_open_it_and_a_post_without_the_token_is_refused(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "agent@teashop.cn", Role.AGENT)
    await _sign_in(client, "agent@teashop.cn")
    assert (await client.get(PAGE)).status_code == 403
    shop = await client.get("/dashboard/teashop")
    assert 'href="/dashboard/teashop/compliance"' not in shop.text
    assert 'href="/dashboard/teashop/flows"' in shop.text
    csrf = _csrf_of(shop)
    assert (await client.post(VERIFY, data={"csrf": csrf})).status_code == 403

    client.cookies.clear()
    await _member(container, "viewer@teashop.cn", Role.VIEWER)
    await _sign_in(client, "viewer@teashop.cn")
    page = await client.get(PAGE, headers=EN)
    assert page.status_code == 200
    assert 'href="/dashboard/teashop/compliance"' in (await client.get("/dashboard/teashop")).text
    for refused in (
        await client.post(VERIFY, data={}, headers=EN),
        await client.post(VERIFY, data={"csrf": "not-the-token"}, headers=EN),
    ):
        assert refused.status_code == 403
        assert "The form expired" in refused.text
        assert "chain intact" not in refused.text
    assert "chain intact" in (await client.post(VERIFY, data={"csrf": _csrf_of(page)})).text


async def test_standing_recent_violations_and_the_shops_terms_are_shown(
    container: Container, client: httpx.AsyncClient
) -> None:
    tenant = await _teashop(container)
    now = container.clock.now()
    async with container.store.transaction() as tx:
        await tx.violations.record(
            tenant_id=tenant.id,
            at=now,
            rule="quiet_hours",
            severity="high",
            weight=5,
            subject="contact:zoe-violation",
        )
        await tx.tenants.set_standing(tenant.id, "warning")
    await add_term(
        container.store,
        tenant,
        term="赌场优惠",
        category="gambling",
        action=TermAction.DENY,
        created_by="user:owner@teashop.cn",
        now=now,
    )
    await _admin(container, client)
    page = await client.get(PAGE, headers=EN)
    assert page.status_code == 200
    assert 'class="badge standing-warning">Warning<' in page.text
    assert "5 in the last 7 days" in page.text
    assert "contact:zoe-violation" in page.text
    assert "quiet_hours" in page.text
    assert "赌场优惠" in page.text
    assert '<td data-label="Action">block</td>' in page.text
    assert '<td data-label="Category">gambling</td>' in page.text
    chinese = await client.get(PAGE, params={"lang": "zh"})
    assert "警告" in chinese.text
    assert "拦截" in chinese.text
