"""``kindbot tenant api-key``: issue, list and revoke a tenant's REST API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from kindbot.bundles.tenants import default_actor
from kindbot.cli.common import open_app, out, run
from kindbot.core.records.operations import ApiKeyRecord
from kindbot.ops.api_keys import IssuedKey, create_api_key, list_api_keys, revoke_api_key

app = typer.Typer(
    rich_markup_mode=None,
    help="A tenant's REST API keys (stored only as hashes; each change audited).",
    no_args_is_help=True,
)

Slug = Annotated[str, typer.Argument(help="The tenant's slug.")]


@app.command()
def create(
    slug: Slug,
    label: Annotated[str | None, typer.Option(help="What the key is for (e.g. crm-sync).")] = None,
) -> None:
    """Issue a key for the tenant and print it (shown this once)."""

    async def go() -> IssuedKey:
        async with open_app() as c:
            return await create_api_key(
                c.store, slug, label=label, actor=default_actor(), now=c.clock.now()
            )

    issued = run(go())
    out.print(issued.key, highlight=False, soft_wrap=True)
    typer.echo(
        f"key {issued.record.prefix} (id {issued.record.id}) for tenant {slug}: "
        "store it now, it is not shown again",
        err=True,
    )


@app.command("list")
def list_keys(slug: Slug) -> None:
    """The tenant's keys: prefix, id, label, created, revoked (never the secrets)."""

    async def go() -> list[ApiKeyRecord]:
        async with open_app() as c:
            return await list_api_keys(c.store, slug)

    keys = run(go())
    if not keys:
        out.print(f"tenant {slug} has no API keys (kindbot tenant api-key create {slug})")
        return
    for k in keys:
        state = (
            f"revoked {k.revoked_at.isoformat(timespec='seconds')}" if k.revoked_at else "active"
        )
        created = k.created_at.isoformat(timespec="seconds")
        label = f" {k.label!r}" if k.label else ""
        out.print(
            f"{k.prefix}  id {k.id}{label}  created {created} by {k.created_by}  {state}",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def revoke(
    slug: Slug, key: Annotated[str, typer.Argument(help="The key's id or prefix (kbk_…).")]
) -> None:
    """Revoke a key: requests with it are refused from now on."""

    async def go() -> ApiKeyRecord:
        async with open_app() as c:
            return await revoke_api_key(
                c.store, slug, key, actor=default_actor(), now=c.clock.now()
            )

    revoked = run(go())
    out.print(f"key {revoked.prefix} of tenant {slug}: revoked", highlight=False)
