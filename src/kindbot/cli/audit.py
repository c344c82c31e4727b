"""``kindbot audit``: check and export the hash-chained audit log."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TextIO

import typer

from kindbot.bundles.tenants import PLATFORM_CHAIN
from kindbot.cli.common import fail, open_app, out, pick_tenant, run
from kindbot.core.ports.seams import Store
from kindbot.guard.audit_export import export_line
from kindbot.ops.audit_log import ChainReport, verify_tenant_chain

app = typer.Typer(rich_markup_mode=None, help="The audit log.", no_args_is_help=True)

PAGE = 5000
TenantOption = Annotated[
    str | None,
    typer.Option(
        "--tenant", "-t", help="Only this tenant's chain ('platform': the platform's own chain)."
    ),
]


@dataclass(frozen=True, slots=True)
class Chain:
    """One audit chain: whose it is and how to name it."""

    tenant_id: str
    label: str


async def select_chains(store: Store, tenant: str | None) -> list[Chain]:
    """The chain of ``tenant`` (a slug or ``platform``), or every tenant's plus the platform's.

    The platform chain is listed only when it has entries (refused signups).
    """
    if tenant == PLATFORM_CHAIN:
        return [Chain(PLATFORM_CHAIN, PLATFORM_CHAIN)]
    async with store.transaction(readonly=True) as tx:
        if tenant is not None:
            found = await pick_tenant(tx, tenant)
            return [Chain(found.id, found.slug)]
        chains = [Chain(t.id, t.slug) for t in await tx.tenants.list()]
        if await tx.audit.entries(PLATFORM_CHAIN, 0, 1):
            chains.append(Chain(PLATFORM_CHAIN, PLATFORM_CHAIN))
    return chains


@app.command()
def verify(tenant: TenantOption = None) -> None:
    """Check every audit chain (or one tenant's); name the first bad entry."""

    async def go() -> list[ChainReport]:
        async with open_app() as c:
            chains = await select_chains(c.store, tenant)
            return [await verify_tenant_chain(c.store, ch.tenant_id, ch.label) for ch in chains]

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


async def export_chains(store: Store, chains: list[Chain], stream: TextIO) -> int:
    """Write every entry of ``chains`` to ``stream`` as JSON lines, a page at a time."""
    written = 0
    for chain in chains:
        after = 0
        while True:
            async with store.transaction(readonly=True) as tx:
                page = await tx.audit.entries(chain.tenant_id, after, PAGE)
            for entry in page:
                stream.write(export_line(entry, chain.label) + "\n")
            written += len(page)
            if len(page) < PAGE:
                break
            after = page[-1].seq
    return written


@app.command()
def export(
    tenant: TenantOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
) -> None:
    """Write audit entries as JSON lines (every chain, the platform's included, by default).

    Each line: tenant, tenant_id, seq, at (ISO-8601, UTC), kind, subject, rule,
    decision, detail (parsed when it is a JSON object), prev_hash, hash.
    """

    async def go(stream: TextIO) -> tuple[int, int]:
        async with open_app() as c:
            chains = await select_chains(c.store, tenant)
            return await export_chains(c.store, chains, stream), len(chains)

    if output is None:
        run(go(sys.stdout))
        return
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="\n") as stream:
            entries, chains = run(go(stream))
        os.replace(partial, output)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    finally:
        partial.unlink(missing_ok=True)
    out.print(f"{entries} entries from {chains} chains written to {output}", highlight=False)
