"""The channels and settings page: callback URLs and tokens, a test message through the
guard to a test contact, and the shop's own guard limits (only ever stricter)."""

from __future__ import annotations

import html
import re

import httpx
from tests.e2e.test_dashboard_accounts import _csrf_of, _member, _sign_in
from tests.support.api import TENANT, bearer, new_key

from kindbot.bootstrap import Container
from kindbot.core.records.accounts import Role
from kindbot.core.records.audit import AuditFilter

PAGE = f"/dashboard/{TENANT}/settings"
SETTINGS_API = f"/api/v1/tenants/{TENANT}/guard/settings"


def _text(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", page.text))


async def _as(container: Container, client: httpx.AsyncClient, role: Role) -> httpx.Response:
    email = f"{role.value}@teashop.cn"
    await _member(container, email, role)
    await _sign_in(client, email)
    return await client.get(PAGE, headers={"accept-language": "en"})


async def test_admins_see_tokens_viewers_read_and_agents_are_refused(
    container: Container, client: httpx.AsyncClient
) -> None:
    page = await _as(container, client, Role.TENANT_ADMIN)
    assert page.status_code == 200
    assert "/callback" in page.text
    assert "secret: <code>demo-webhook-secret-change-me</code>" in page.text

    client.cookies.clear()
    viewer = await _as(container, client, Role.VIEWER)
    assert viewer.status_code == 200
    assert "demo-webhook-secret" not in viewer.text
    assert 'action="/dashboard/teashop/settings/guard"' in viewer.text
    assert "disabled" in viewer.text
    assert "Send through the guard" not in viewer.text

    client.cookies.clear()
    agent = await _as(container, client, Role.AGENT)
    assert agent.status_code == 403


async def test_a_stricter_limit_is_saved_and_audited_a_looser_one_changes_nothing(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    page = await _as(container, client, Role.TENANT_ADMIN)
    csrf = _csrf_of(page)
    key = bearer(await new_key(client, admin))
    before = (await client.get(SETTINGS_API, headers=key)).json()

    looser = await client.post(
        f"{PAGE}/guard", data={"csrf": csrf, "per_contact_day": "5", "quiet_hours": ""}
    )
    assert looser.status_code == 400
    assert "per_contact_day" in _text(looser)
    assert (await client.get(SETTINGS_API, headers=key)).json() == before

    not_a_number = await client.post(f"{PAGE}/guard", data={"csrf": csrf, "per_contact_day": "x"})
    assert not_a_number.status_code == 400
    assert "a whole number" in _text(not_a_number)

    saved = await client.post(
        f"{PAGE}/guard",
        data={"csrf": csrf, "quiet_hours": "20:00-10:00", "per_contact_month": "2"},
    )
    assert saved.status_code == 200
    assert "the new limits apply" in _text(saved)
    after = (await client.get(SETTINGS_API, headers=key)).json()
    assert after["own"] == {
        "quiet_hours": "20:00-10:00",
        "per_contact_day": None,
        "per_contact_month": 2,
        "human_confirm_over": None,
    }
    assert after["effective"]["quiet_hours"] == "20:00-10:00"
    assert after["effective"]["per_contact_month"] == 2
    assert after["platform"]["per_contact_month"] == before["platform"]["per_contact_month"]
    tenant_id = await _tenant_id(container)
    async with container.store.transaction() as tx:
        entries = await tx.audit.newest(
            tenant_id, AuditFilter(kind="guard_settings"), before_seq=None, limit=10
        )
    assert len(entries) == 1
    assert "user:tenant_admin@teashop.cn" in entries[0].detail

    forged = await client.post(f"{PAGE}/guard", data={"csrf": "wrong", "per_contact_month": "1"})
    assert forged.status_code == 403
    assert (await client.get(SETTINGS_API, headers=key)).json()["own"]["per_contact_month"] == 2


async def test_the_api_refuses_a_looser_limit_with_a_code(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    refused = await client.put(SETTINGS_API, headers=key, json={"quiet_hours": "23:00-07:00"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_guard"
    unknown = await client.put(SETTINGS_API, headers=key, json={"per_contact_week": 1})
    assert unknown.status_code == 400
    assert "per_contact_week" in unknown.json()["error"]["message"]
    ok = await client.put(SETTINGS_API, headers=key, json={"human_confirm_over": 50})
    assert ok.status_code == 200
    assert ok.json()["effective"]["human_confirm_over"] == 50


async def test_a_test_message_goes_through_the_guard_and_its_verdict_is_shown(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    added = await client.post(
        f"/api/v1/tenants/{TENANT}/test-contacts",
        headers=admin,
        json={"channel": "hook", "external_id": "owner-phone"},
    )
    assert added.status_code == 201, added.text
    page = await _as(container, client, Role.TENANT_ADMIN)
    csrf = _csrf_of(page)
    contact = re.search(r'<option value="([0-9a-f]{32})"', page.text)
    assert contact is not None
    form = {"csrf": csrf, "contact": contact.group(1), "topic": "news", "message": "测试"}

    refused = await client.post(f"{PAGE}/test-message", data=form)
    assert refused.status_code == 200
    assert "The guard refused it." in _text(refused)
    assert 'id="test-verdict"' in refused.text
    assert "consent" in refused.text
    assert await _outbox_count(container) == 0

    key = bearer(await new_key(client, admin))
    consent = await client.post(
        f"/api/v1/tenants/{TENANT}/contacts/hook/owner-phone/consents",
        headers=key,
        json={"topic": "news", "wording": "send me news"},
    )
    assert consent.status_code == 201, consent.text
    allowed = await client.post(f"{PAGE}/test-message", data=form)
    assert "the message is in the outbox" in _text(allowed)
    assert await _outbox_count(container) == 1

    stranger = await client.post(f"{PAGE}/test-message", data={**form, "contact": "0" * 32})
    assert stranger.status_code == 404
    assert "not one of the shop's test contacts" in _text(stranger)
    empty = await client.post(f"{PAGE}/test-message", data={**form, "message": " "})
    assert empty.status_code == 400
    assert await _outbox_count(container) == 1


async def _tenant_id(container: Container) -> str:
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug(TENANT)
    assert tenant is not None
    return tenant.id


async def _outbox_count(container: Container) -> int:
    """Messages sent to the test contact (a message admitted by the guard is stored)."""
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug(TENANT)
        assert tenant is not None
        tests = await tx.contacts.list_test(tenant.id)
        return len(await tx.messages.history_for_contact(tests[0].id, 10))
