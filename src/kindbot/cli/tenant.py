"""``kindbot tenant``: the platform admin's view of tenants and their status."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from kindbot.bundles.tenants import StatusChange, TenantAction, change_status, default_actor
from kindbot.cli import api_keys
from kindbot.cli.common import fail, open_app, out, run
from kindbot.core.records.tenancy import TenantRecord

app = typer.Typer(
    rich_markup_mode=None,
    help="Tenants: list them; approve, suspend and reinstate them (each audited).",
    no_args_is_help=True,
)

Reason = Annotated[
    str | None, typer.Option("--reason", "-r", help="Why (required; written to the audit log).")
]
Slug = Annotated[str, typer.Argument(help="The tenant's slug.")]

app.add_typer(api_keys.app, name="api-key")


@app.command("list")
def list_tenants() -> None:
    """Every tenant: slug, name, industry and status."""

    async def go() -> list[TenantRecord]:
        async with (
            open_app() as c,
            c.store.transaction(readonly=True) as tx,
        ):
            return await tx.tenants.list()

    tenants = run(go())
    if not tenants:
        out.print("no tenants yet; apply a bundle first (kindbot apply FILE)")
        return
    table = Table("slug", "name", "industry", "status")
    for t in tenants:
        table.add_row(t.slug, t.name, t.industry, t.status.value)
    out.print(table)


def _decide(slug: str, action: TenantAction, reason: str | None) -> None:
    if reason is None or not reason.strip():
        fail(f"a reason is required: kindbot tenant {action.value} {slug} --reason TEXT")
    why: str = reason

    async def go() -> StatusChange:
        async with open_app() as c:
            return await change_status(
                c.store, slug, action, reason=why, actor=default_actor(), now=c.clock.now()
            )

    change = run(go())
    out.print(
        f"tenant {change.tenant.slug}: {change.previous.value} → {change.tenant.status.value} "
        f"(audit entry {change.entry.seq})",
        highlight=False,
    )


@app.command()
def approve(slug: Slug, reason: Reason = None) -> None:
    """Approve a pending tenant: it may then message everyone the guard allows."""
    _decide(slug, TenantAction.APPROVE, reason)


@app.command()
def suspend(slug: Slug, reason: Reason = None) -> None:
    """Suspend a tenant: it sends nothing (inbound messages are still recorded)."""
    _decide(slug, TenantAction.SUSPEND, reason)


@app.command()
def reinstate(slug: Slug, reason: Reason = None) -> None:
    """Reinstate a suspended tenant (it becomes active)."""
    _decide(slug, TenantAction.REINSTATE, reason)
