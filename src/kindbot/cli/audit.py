"""``kindbot audit``: check the hash-chained audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from kindbot.bootstrap import open_container
from kindbot.cli.common import fail, out, pick_tenant, run
from kindbot.guard.audit import ChainBreak, verify_chain
from kindbot.records import GENESIS_HASH, AuditHead
from kindbot.settings import Settings
from kindbot.types import Store

app = typer.Typer(help="The audit log.", no_args_is_help=True)

PAGE = 5000


@dataclass(frozen=True, slots=True)
class ChainReport:
    """How far a chain verified and where it broke, if it did."""

    tenant_slug: str
    entries: int
    broken: ChainBreak | None


async def verify_tenant_chain(store: Store, tenant_id: str, slug: str) -> ChainReport:
    """Verify a tenant's whole chain page by page, then check the head points at its end."""
    verified = AuditHead(tenant_id, 0, GENESIS_HASH)
    count = 0
    while True:
        async with store.transaction() as tx:
            page = await tx.audit.entries(tenant_id, verified.seq, PAGE)
        if not page:
            break
        broken = verify_chain(page, start=verified)
        if broken is not None:
            return ChainReport(slug, count, broken)
        count += len(page)
        verified = AuditHead(tenant_id, page[-1].seq, page[-1].hash)
    async with store.transaction() as tx:
        head = await tx.audit.lock_head(tenant_id)
    if (head.seq, head.hash) != (verified.seq, verified.hash):
        problem = f"the log ends at entry {verified.seq} but its head says {head.seq} (truncated)"
        return ChainReport(slug, count, ChainBreak(verified.seq + 1, problem))
    return ChainReport(slug, count, None)


@app.command()
def verify(
    tenant: Annotated[str | None, typer.Option("--tenant", "-t", help="Only this tenant.")] = None,
) -> None:
    """Check every tenant's audit chain (or one); name the first bad entry."""

    async def go() -> list[ChainReport]:
        async with open_container(Settings.from_env(), auto_migrate=True) as c:
            async with c.store.transaction() as tx:
                tenants = [await pick_tenant(tx, tenant)] if tenant else await tx.tenants.list()
            return [await verify_tenant_chain(c.store, t.id, t.slug) for t in tenants]

    reports = run(go())
    if not reports:
        out.print("no tenants yet: there is no audit log to verify")
    bad = [r for r in reports if r.broken is not None]
    for r in reports:
        if r.broken is None:
            out.print(f"{r.tenant_slug}: ok, {r.entries} entries verified")
    if bad:
        fail(
            "\n".join(
                f"{r.tenant_slug}: entry {r.broken.seq}: {r.broken.problem}"
                for r in bad
                if r.broken is not None
            )
        )
