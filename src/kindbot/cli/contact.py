"""``kindbot contact``: a contact's data rights — export everything, or erase it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kindbot.bundles.tenants import default_actor
from kindbot.cli.common import fail, open_app, out, run
from kindbot.cli.contact_options import (
    ChannelOption,
    TenantOption,
    UserOption,
    contact_ref,
    load_tenant,
)

if TYPE_CHECKING:
    from kindbot.ops.rights import Erasure

app = typer.Typer(
    rich_markup_mode=None,
    help="A contact's data: export everything kindbot stores, or erase it.",
    no_args_is_help=True,
)


@app.command()
def export(
    tenant: TenantOption = None,
    channel: ChannelOption = None,
    user: UserOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
) -> None:
    """Print one JSON document with everything stored about the contact."""
    ref = contact_ref(channel, user)

    from kindbot.ops.rights import export_contact

    async def go() -> dict[str, Any]:
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            return await export_contact(c.store, found, ref, c.clock.now())

    text = json.dumps(run(go()), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    partial = output.with_name(output.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, output)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    finally:
        partial.unlink(missing_ok=True)
    out.print(f"export of {ref.external_id} written to {output}", highlight=False)


@app.command()
def erase(
    tenant: TenantOption = None,
    channel: ChannelOption = None,
    user: UserOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: erasure cannot be undone.")] = False,
) -> None:
    """Erase the contact's personal data (one transaction; the audit log records the counts)."""
    ref = contact_ref(channel, user)
    if not yes:
        fail("erasure cannot be undone: pass --yes to confirm")

    from kindbot.ops.consent import Recorder
    from kindbot.ops.rights import erase_contact

    async def go() -> Erasure:
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            recorder = Recorder("cli", default_actor())
            return await erase_contact(c.store, found, ref, recorder, c.clock.now())

    erasure = run(go())
    counts = ", ".join(f"{n} {name}" for name, n in erasure.counts.as_dict().items())
    out.print(
        f"erased {ref.external_id} on {ref.channel}: {counts} (audit entry {erasure.entry.seq})",
        highlight=False,
    )
