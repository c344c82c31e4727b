"""The audit sequencer: messages write their verdicts pending; the chain is sealed apart.

A message's transaction only inserts its audit entries (no head, no lock);
the sequencer chains them, and every reader — the API, the CLI — seals what
is pending before it reads, so a verdict is in the log right after its message.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
from sqlalchemy import func, select
from tests.support.api import bearer
from tests.support.cli import kindbot_in_thread
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container, open_container
from kindbot.core.events import InboundEvent, InboundKind
from kindbot.core.records.audit import AuditDraft
from kindbot.ops.audit_log import verify_tenant_chain
from kindbot.settings import Settings
from kindbot.storage.schema import audit_entries, audit_pending
from kindbot.storage.sql_store import SqlStore
from kindbot.web.app import build_app

WEB = "teashop.web"
TENANT = "teashop"
GRACE = timedelta(seconds=30)


def event(text: str, key: str, sender: str = "visitor-1") -> InboundEvent:
    return InboundEvent(
        channel_public_id=WEB,
        sender=sender,
        kind=InboundKind.TEXT,
        text=text,
        idempotency_key=key,
        received_at=FakeClock().now(),
    )


async def count(store: SqlStore, table_name: str) -> int:
    table = audit_pending if table_name == "pending" else audit_entries
    async with store.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def tenant_id(container: Container) -> str:
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug(TENANT)
    assert tenant is not None
    return tenant.id


async def test_messages_write_verdicts_pending_and_the_sequencer_chains_them(
    container: Container,
) -> None:
    chained_before = await count(container.store, "sealed")
    for n in range(3):
        await container.pipeline.feed(event("运费怎么算", f"k{n}", f"v{n}"), sync_grace=GRACE)

    waiting = await count(container.store, "pending")
    assert waiting >= 6, "each message's inbound and outbound verdicts wait for the sequencer"
    assert await count(container.store, "sealed") == chained_before, "no message seals"

    assert await container.audit_sequencer.seal_pass(skip_locked=True)
    assert await count(container.store, "pending") == 0
    assert await count(container.store, "sealed") == chained_before + waiting
    report = await verify_tenant_chain(container.store, await tenant_id(container), TENANT)
    assert report.broken is None
    assert not await container.audit_sequencer.seal_pass(skip_locked=True), "nothing left"


async def test_the_api_reads_a_messages_verdicts_right_after_it(container: Container) -> None:
    result = await container.pipeline.feed(event("运费怎么算", "k1"), sync_grace=GRACE)
    assert await count(container.store, "pending") > 0
    admin = bearer(container.admin_token)
    transport = httpx.ASGITransport(app=build_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://kindbot") as client:
        exported = await client.get(f"/api/v1/tenants/{TENANT}/audit/export", headers=admin)
        verified = await client.get(f"/api/v1/tenants/{TENANT}/audit/verify", headers=admin)

    lines = [json.loads(line) for line in exported.text.splitlines()]
    subjects = {(line["kind"], line["subject"]) for line in lines}
    assert ("inbound", f"message:{result.inbound_message_id}") in subjects
    assert ("outbound", f"message:{result.replies[0].message_id}") in subjects
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    assert verified.json()["ok"] is True
    assert await count(container.store, "pending") == 0


async def test_the_cli_verifies_and_exports_a_messages_verdicts_right_after_it(
    container: Container,
) -> None:
    result = await container.pipeline.feed(event("运费怎么算", "k1"), sync_grace=GRACE)
    assert await count(container.store, "pending") > 0
    settings = container.settings
    env = {"KINDBOT_DATABASE_URL": settings.database_url} if settings.database_url else {}

    verified = await kindbot_in_thread(
        "audit", "verify", "--tenant", TENANT, data_dir=settings.data_dir, env=env
    )
    exported = await kindbot_in_thread(
        "audit", "export", "--tenant", TENANT, data_dir=settings.data_dir, env=env
    )

    assert verified.returncode == 0, verified.stderr
    total = await count(container.store, "sealed")
    assert f"{TENANT}: ok, " in verified.stdout
    assert f"{total} entries verified" in verified.stdout.replace("\n", " ")
    assert f"message:{result.replies[0].message_id}" in exported.stdout
    assert await count(container.store, "pending") == 0


def draft(tenant: str, n: int) -> AuditDraft:
    return AuditDraft(tenant, FakeClock().now(), "test", f"entry-{n}", "R1", "allow", "{}")


async def test_a_container_seals_what_is_pending_when_it_closes(
    settings: Settings, clock: FakeClock
) -> None:
    async with open_container(settings, clock=clock, auto_migrate=True) as container:
        async with container.store.transaction() as tx:
            await tx.audit.add_pending([draft("t1", n) for n in range(3)])
        url = container.database_url

    store = SqlStore.for_url(url)
    try:
        assert await count(store, "pending") == 0
        async with store.transaction(readonly=True) as tx:
            head = await tx.audit.head("t1")
        assert head.seq == 3
    finally:
        await store.close()


async def test_the_sequencer_runs_in_a_process_with_background_jobs(
    settings: Settings, clock: FakeClock
) -> None:
    async with open_container(settings, clock=clock, auto_migrate=True, live=True) as container:
        async with container.store.transaction() as tx:
            await tx.audit.add_pending([draft("t1", n) for n in range(3)])
        for _ in range(400):  # a liveness bound (20 s), not a timing: it seals every 0.2 s
            if not await count(container.store, "pending"):
                break
            await asyncio.sleep(0.05)
        assert await count(container.store, "pending") == 0
        async with container.store.transaction(readonly=True) as tx:
            assert (await tx.audit.head("t1")).seq == 3
