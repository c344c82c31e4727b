"""Onboarding through the real composition root: a new tenant is pending and
reaches only its test contacts; prohibited industries are refused; a platform
admin approves, suspends and reinstates — every step audited."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container
from kindbot.bundles.apply import apply_bundle
from kindbot.bundles.tenants import (
    PLATFORM_CHAIN,
    TenantStatusError,
    approve_tenant,
    reinstate_tenant,
    suspend_tenant,
)
from kindbot.core.errors import BadRequestError, InputFileError, NotFoundError
from kindbot.core.events import FeedResult, InboundEvent, InboundKind
from kindbot.core.records.audit import AuditEntry
from kindbot.core.records.tenancy import TenantRecord, TenantStatus
from kindbot.guard.audit import verify_chain

GRACE = timedelta(seconds=30)
WEB = "newshop.web"


def write_bundle(tmp_path: Path, *, industry: str = "茶叶零售", testers: str = "boss") -> Path:
    (tmp_path / "faq.csv").write_text("question,answer\n运费怎么算,满99元包邮\n", encoding="utf-8")
    contacts = "".join(f"  - {{channel: web, external_id: {t}}}\n" for t in testers.split())
    path = tmp_path / "newshop.yaml"
    path.write_text(
        "# a new shop\n"
        "tenant:\n"
        "  slug: newshop\n"
        "  name: New Shop\n"
        f"  industry: {industry}\n"
        "channels:\n"
        "  - {id: web, type: webchat}\n"
        "knowledge: [{file: faq.csv}]\n" + (f"test_contacts:\n{contacts}" if contacts else ""),
        encoding="utf-8",
    )
    return path


async def ask(container: Container, sender: str, key: str) -> FeedResult:
    event = InboundEvent(
        channel_public_id=WEB,
        sender=sender,
        kind=InboundKind.TEXT,
        text="运费怎么算",
        idempotency_key=key,
        received_at=container.clock.now(),
    )
    return await container.pipeline.feed(event, sync_grace=GRACE)


async def tenant_and_chain(
    container: Container, slug: str
) -> tuple[TenantRecord, list[AuditEntry]]:
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug(slug)
        assert tenant is not None
        return tenant, await tx.audit.entries(tenant.id, 0, 1000)


async def platform_chain(container: Container) -> list[AuditEntry]:
    async with container.store.transaction(readonly=True) as tx:
        return await tx.audit.entries(PLATFORM_CHAIN, 0, 1000)


async def test_pending_tenant_replies_only_to_its_test_contacts(
    container: Container, clock: FakeClock, tmp_path: Path
) -> None:
    report = await apply_bundle(container.store, container.box, write_bundle(tmp_path), clock.now())
    assert report.tenant_created
    assert report.tenant_status is TenantStatus.PENDING
    assert report.test_contacts_marked == 1

    stranger = await ask(container, "visitor-1", "k1")
    boss = await ask(container, "boss", "k2")

    assert stranger.replies == ()
    assert len(boss.replies) == 1
    assert "满99元包邮" in boss.replies[0].text
    tenant, entries = await tenant_and_chain(container, "newshop")
    assert tenant.status is TenantStatus.PENDING
    outbound = {e.subject: e for e in entries if e.kind == "outbound"}
    denied = outbound[f"reply-to:{stranger.inbound_message_id}"]
    assert (denied.rule, denied.decision) == ("tenant_status", "deny")
    assert "pending" in json.loads(denied.detail)["reason_en"]
    assert outbound[f"message:{boss.replies[0].message_id}"].decision == "allow"
    async with container.store.transaction(readonly=True) as tx:
        history = await tx.messages.history(stranger.conversation_id, 10)
    assert [m.text for m in history] == ["运费怎么算"], "the inbound message is still recorded"


async def test_approve_suspend_reinstate_change_what_the_guard_allows(
    container: Container, clock: FakeClock, tmp_path: Path
) -> None:
    await apply_bundle(container.store, container.box, write_bundle(tmp_path), clock.now())
    assert (await ask(container, "visitor-1", "k1")).replies == ()

    approved = await approve_tenant(
        container.store, "newshop", reason="documents checked", actor="ops-li", now=clock.now()
    )
    assert (approved.previous, approved.tenant.status) == (
        TenantStatus.PENDING,
        TenantStatus.ACTIVE,
    )
    assert len((await ask(container, "visitor-1", "k2")).replies) == 1

    clock.advance(timedelta(minutes=1))
    await suspend_tenant(
        container.store, "newshop", reason="complaints", actor="ops-li", now=clock.now()
    )
    assert (await ask(container, "visitor-1", "k3")).replies == ()
    assert (await ask(container, "boss", "k4")).replies == (), "suspended: not even test contacts"

    clock.advance(timedelta(minutes=1))
    await reinstate_tenant(
        container.store, "newshop", reason="appeal upheld", actor="ops-wang", now=clock.now()
    )
    assert len((await ask(container, "visitor-1", "k5")).replies) == 1

    _, entries = await tenant_and_chain(container, "newshop")
    assert verify_chain(entries) is None
    decisions = [
        (e.kind, e.rule, e.decision, json.loads(e.detail))
        for e in entries
        if e.kind == "tenant_status"
    ]
    assert decisions == [
        (
            "tenant_status",
            "tenant_status",
            "approve",
            {"reason": "documents checked", "actor": "ops-li", "from": "pending", "to": "active"},
        ),
        (
            "tenant_status",
            "tenant_status",
            "suspend",
            {"reason": "complaints", "actor": "ops-li", "from": "active", "to": "suspended"},
        ),
        (
            "tenant_status",
            "tenant_status",
            "reinstate",
            {"reason": "appeal upheld", "actor": "ops-wang", "from": "suspended", "to": "active"},
        ),
    ]


async def test_invalid_transitions_change_nothing(
    container: Container, clock: FakeClock, tmp_path: Path
) -> None:
    await apply_bundle(container.store, container.box, write_bundle(tmp_path), clock.now())
    now = clock.now()
    with pytest.raises(TenantStatusError, match="pending, not suspended"):
        await reinstate_tenant(container.store, "newshop", reason="x", actor="ops", now=now)
    with pytest.raises(BadRequestError, match="reason is required"):
        await approve_tenant(container.store, "newshop", reason="  \n ", actor="ops", now=now)
    with pytest.raises(NotFoundError):
        await approve_tenant(container.store, "nosuchshop", reason="x", actor="ops", now=now)
    await approve_tenant(container.store, "newshop", reason="ok", actor="ops", now=now)
    with pytest.raises(TenantStatusError, match="already active"):
        await approve_tenant(container.store, "newshop", reason="again", actor="ops", now=now)
    with pytest.raises(TenantStatusError, match="not suspended"):
        await reinstate_tenant(container.store, "newshop", reason="x", actor="ops", now=now)
    await suspend_tenant(container.store, "newshop", reason="abuse", actor="ops", now=now)
    with pytest.raises(TenantStatusError, match="already suspended"):
        await suspend_tenant(container.store, "newshop", reason="abuse", actor="ops", now=now)
    with pytest.raises(TenantStatusError, match="reinstate it instead"):
        await approve_tenant(container.store, "newshop", reason="x", actor="ops", now=now)

    tenant, entries = await tenant_and_chain(container, "newshop")
    assert tenant.status is TenantStatus.SUSPENDED
    assert [e.decision for e in entries if e.kind == "tenant_status"] == ["approve", "suspend"]


async def test_prohibited_industry_is_refused_and_audited_on_the_platform_chain(
    container: Container, clock: FakeClock, tmp_path: Path
) -> None:
    path = write_bundle(tmp_path, industry="网络博彩")
    with pytest.raises(InputFileError) as caught:
        await apply_bundle(container.store, container.box, path, clock.now())

    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.location) == (str(path), 5, "tenant.industry")
    assert "网络博彩" in problem.problem
    assert "gambling" in problem.problem
    assert "赌博" in problem.problem
    async with container.store.transaction(readonly=True) as tx:
        assert await tx.tenants.get_by_slug("newshop") is None
        assert await tx.channels.get_by_public_id(WEB) is None
    [entry] = await platform_chain(container)
    assert (entry.tenant_id, entry.kind, entry.subject) == (
        PLATFORM_CHAIN,
        "onboarding",
        "tenant:newshop",
    )
    assert (entry.rule, entry.decision) == ("tenant_status", "deny")
    detail = json.loads(entry.detail)
    assert detail["industry"] == "网络博彩"
    assert detail["bundle"] == str(path)
    assert "gambling" in detail["reason_en"]
    assert verify_chain([entry]) is None


async def test_changing_to_a_prohibited_industry_is_refused(
    container: Container, clock: FakeClock, tmp_path: Path
) -> None:
    await apply_bundle(container.store, container.box, write_bundle(tmp_path), clock.now())
    with pytest.raises(InputFileError, match="fraud"):
        await apply_bundle(
            container.store,
            container.box,
            write_bundle(tmp_path, industry="P2P 高利贷"),
            clock.now(),
        )
    tenant, _ = await tenant_and_chain(container, "newshop")
    assert tenant.industry == "茶叶零售"
    assert len(await platform_chain(container)) == 1


async def test_test_contacts_follow_the_bundle(
    container: Container, clock: FakeClock, tmp_path: Path
) -> None:
    path = write_bundle(tmp_path, testers="boss clerk")
    first = await apply_bundle(container.store, container.box, path, clock.now())
    again = await apply_bundle(container.store, container.box, path, clock.now())
    fewer = await apply_bundle(
        container.store, container.box, write_bundle(tmp_path, testers="clerk"), clock.now()
    )
    assert (first.test_contacts_marked, first.test_contacts_unmarked) == (2, 0)
    assert (again.test_contacts_marked, again.test_contacts_unmarked) == (0, 0)
    assert (fewer.test_contacts_marked, fewer.test_contacts_unmarked) == (0, 1)
    assert (await ask(container, "boss", "k1")).replies == ()
    assert len((await ask(container, "clerk", "k2")).replies) == 1

    silent = await apply_bundle(
        container.store, container.box, write_bundle(tmp_path, testers=""), clock.now()
    )
    assert (silent.test_contacts_marked, silent.test_contacts_unmarked) == (0, 0)
    assert len((await ask(container, "clerk", "k3")).replies) == 1, "no key: left as they were"
    (tmp_path / "newshop.yaml").write_text(
        (tmp_path / "newshop.yaml").read_text(encoding="utf-8") + "test_contacts: []\n",
        encoding="utf-8",
    )
    cleared = await apply_bundle(
        container.store, container.box, tmp_path / "newshop.yaml", clock.now()
    )
    assert (cleared.test_contacts_marked, cleared.test_contacts_unmarked) == (0, 1)
    assert (await ask(container, "clerk", "k4")).replies == ()
