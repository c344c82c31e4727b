"""The knowledge base in the dashboard: the test box, editing, import, unanswered questions."""

from __future__ import annotations

import re

import httpx
from tests.e2e.test_dashboard_accounts import _csrf_of, _member, _sign_in
from tests.support.api import say

from kindbot.bootstrap import Container
from kindbot.core.records.accounts import Role


async def _admin(container: Container, client: httpx.AsyncClient) -> str:
    await _member(container, "owner@teashop.cn", Role.TENANT_ADMIN)
    await _sign_in(client, "owner@teashop.cn")
    return _csrf_of(await client.get("/dashboard/teashop/kb"))


def _decision(page: httpx.Response) -> str:
    found = re.search(r'class="badge decision-(\w+)"', page.text)
    assert found, "the test box shows a decision"
    return found.group(1)


async def test_the_test_box_shows_the_decision_and_the_candidates(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "viewer@teashop.cn", Role.VIEWER)
    await _sign_in(client, "viewer@teashop.cn")
    page = await client.get("/dashboard/teashop/kb", params={"test": "茶叶怎么保存？"})
    assert page.status_code == 200
    assert _decision(page) == "answer"
    assert "冷藏" in page.text  # the answer the bot would give
    assert page.text.count("<td>1</td>") == 1  # ranked candidates with scores
    nonsense = await client.get("/dashboard/teashop/kb", params={"test": "量子引力的重整化"})
    assert _decision(nonsense) in {"fallback", "clarify"}
    assert 'action="/dashboard/teashop/kb/entries"' not in page.text  # viewers do not edit


async def test_an_admin_adds_an_entry_and_the_test_box_answers_with_it(
    container: Container, client: httpx.AsyncClient
) -> None:
    csrf = await _admin(container, client)
    before = await client.get("/dashboard/teashop/kb", params={"test": "茶具可以定制刻字吗"})
    assert _decision(before) != "answer"

    saved = await client.post(
        "/dashboard/teashop/kb/entries",
        data={
            "question": "茶具可以刻字吗？",
            "answer": "可以在茶具上刻字，每件加收 20 元，需多等 3 天发货。",
            "similar": "茶具能刻字吗\n茶具可以定制刻字吗\n杯子上能刻名字吗",
            "tags": "定制, 茶具",
            "csrf": csrf,
        },
    )
    assert saved.status_code == 303
    after = await client.get("/dashboard/teashop/kb", params={"test": "茶具可以定制刻字吗"})
    assert _decision(after) == "answer"
    assert "每件加收 20 元" in after.text

    entry_id = re.search(r"[?]q=([^&]+)&", saved.headers["location"])
    assert entry_id
    edited = await client.post(
        "/dashboard/teashop/kb/entries",
        data={
            "entry_id": entry_id.group(1),
            "question": "茶具可以刻字吗？",
            "answer": "刻字服务暂停，春节后恢复。",
            "similar": "茶具能刻字吗\n茶具可以定制刻字吗",
            "csrf": csrf,
        },
    )
    assert edited.status_code == 303
    now = await client.get("/dashboard/teashop/kb", params={"test": "茶具能刻字吗"})
    assert "刻字服务暂停" in now.text
    assert "每件加收 20 元" not in now.text

    deleted = await client.post(
        f"/dashboard/teashop/kb/entries/{entry_id.group(1)}/delete", data={"csrf": csrf}
    )
    assert deleted.status_code == 303
    gone = await client.get("/dashboard/teashop/kb", params={"test": "茶具能刻字吗"})
    assert "刻字服务暂停" not in gone.text
    again = await client.post(
        f"/dashboard/teashop/kb/entries/{entry_id.group(1)}/delete", data={"csrf": csrf}
    )
    assert again.status_code == 404


async def test_a_bad_entry_is_refused_with_the_field_and_kept_in_the_form(
    container: Container, client: httpx.AsyncClient
) -> None:
    csrf = await _admin(container, client)
    refused = await client.post(
        "/dashboard/teashop/kb/entries",
        data={"question": "只有问题没有答案？", "answer": "  ", "csrf": csrf},
    )
    assert refused.status_code == 400
    assert "answer: 1 to 4000 characters" in refused.text
    assert 'value="只有问题没有答案？"' in refused.text


async def test_an_import_applies_all_or_nothing_and_names_the_bad_row(
    container: Container, client: httpx.AsyncClient
) -> None:
    csrf = await _admin(container, client)
    total = await _entries(container)
    bad = "question,answer\n周末发货吗,周末照常发货。\n只有问题,\n"
    refused = await client.post(
        "/dashboard/teashop/kb/import",
        data={"csrf": csrf},
        files={"file": ("faq-more.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 400
    assert "nothing was imported" in refused.text
    assert "faq-more.csv" in refused.text
    assert "3" in refused.text  # the row
    assert await _entries(container) == total

    good = "question,answer\n周末发货吗,周末照常发货。\n"
    done = await client.post(
        "/dashboard/teashop/kb/import",
        data={"csrf": csrf},
        files={"file": ("faq-more.csv", good.encode(), "text/csv")},
    )
    assert done.status_code == 303
    assert await _entries(container) == total + 1
    wrong_type = await client.post(
        "/dashboard/teashop/kb/import",
        data={"csrf": csrf},
        files={"file": ("faq.exe", b"MZ", "application/octet-stream")},
    )
    assert wrong_type.status_code == 400
    assert "use a .csv" in wrong_type.text


async def _entries(container: Container) -> int:
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        return len(await tx.knowledge.list(tenant.id))


async def test_unanswered_questions_are_grouped_and_become_an_entry(
    container: Container, client: httpx.AsyncClient
) -> None:
    await say(client, "u1", "你们有实体店吗", "m1")
    await say(client, "u2", "你们有没有实体店", "m2")
    csrf = await _admin(container, client)
    page = await client.get("/dashboard/teashop/kb/unanswered")
    assert page.status_code == 200
    assert "实体店" in page.text
    link = re.search(r'href="(/dashboard/teashop/kb\?new=[^"]+)"', page.text)
    assert link, "each group links to a new entry"
    form = await client.get(link.group(1).replace("&amp;", "&"))
    assert re.search(r'id="question"[^>]*value="你们(有没有)?实体店', form.text)
    saved = await client.post(
        "/dashboard/teashop/kb/entries",
        data={
            "question": "你们有实体店吗",
            "answer": "目前只在网上销售，没有实体店。",
            "similar": "你们有没有实体店",
            "csrf": csrf,
        },
    )
    assert saved.status_code == 303
    after = await client.get("/dashboard/teashop/kb/unanswered")
    assert "实体店" not in after.text
