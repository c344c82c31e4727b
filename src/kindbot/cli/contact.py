"""``kindbot contact``: the contact list, a contact's timeline and custom attributes, and
its data rights — export everything, or erase it."""

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
    help="Contacts: list and search them, a contact's timeline and attributes; "
    "export everything kindbot stores of one, or erase it.",
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


# -- the directory: list, timeline, attributes (issue 16 §2) --------------------------------

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the JSON document the REST API returns.")
]
CursorOption = Annotated[
    str | None, typer.Option("--cursor", help="Continue after a previous page (its next_cursor).")
]
LimitOption = Annotated[int | None, typer.Option("--limit", help="Rows per page (1-200).")]


def _print_json(document: object) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


@app.command("list")
def list_contacts(
    tenant: TenantOption = None,
    q: Annotated[
        str | None, typer.Option("--q", "-q", help="Part of the display name or external id.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Carries this tag (repeatable).")
    ] = None,
    channel: ChannelOption = None,
    attr: Annotated[
        list[str] | None,
        typer.Option(
            "--attr",
            help="name:op:value (op: eq ne gt gte lt lte contains; name:set, name:unset); "
            "repeatable.",
        ),
    ] = None,
    active_within_days: Annotated[
        int | None,
        typer.Option("--active-within-days", help="Last inbound message or event within N days."),
    ] = None,
    min_orders: Annotated[
        int | None, typer.Option("--min-orders", help="At least N orders.")
    ] = None,
    min_revenue: Annotated[
        str | None, typer.Option("--min-revenue", help="Orders minus refunds at least AMOUNT.")
    ] = None,
    sort: Annotated[
        str | None,
        typer.Option("--sort", help="last_active (default), created, orders, revenue, name."),
    ] = None,
    cursor: CursorOption = None,
    limit: LimitOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the tenant's contacts matching every filter given, one page at a time."""
    from kindbot.contacts.search import ListParameters
    from kindbot.ops.directory import ContactPage, list_contacts, row_document

    params = ListParameters(
        q=q,
        tags=tuple(tag or ()),
        channel=channel,
        attrs=tuple(attr or ()),
        active_within_days=active_within_days,
        min_orders=min_orders,
        min_revenue=min_revenue,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )

    async def go() -> ContactPage:
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            return await list_contacts(c.store, found, params, c.clock.now())

    page = run(go())
    rows = [row_document(r, page.currency) for r in page.rows]
    if as_json:
        _print_json({"contacts": rows, "next_cursor": page.next_cursor})
        return
    from rich.table import Table

    table = Table("id", "channel", "external id", "name", "tags", "last active", "orders",
                  "revenue", "source")  # fmt: skip
    for row in rows:
        table.add_row(
            row["id"],
            row["channel"],
            row["external_id"],
            row["display_name"] or "",
            ", ".join(row["tags"]),
            row["last_active"] or "never",
            str(row["orders"]),
            row["revenue"],
            row["source"],
        )
    out.print(table)
    out.print(f"{len(rows)} contact(s)", highlight=False)
    if page.next_cursor is not None:
        out.print(f"more: --cursor {page.next_cursor}", highlight=False)


@app.command()
def timeline(
    contact_id: Annotated[str, typer.Argument(metavar="CONTACT", help="The contact's id.")],
    tenant: TenantOption = None,
    cursor: CursorOption = None,
    limit: LimitOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the contact's history, newest first: messages, consents, opt-outs, handoffs,
    business events, held proactive sends and notes."""
    from kindbot.ops.directory import TimelinePage, contact_timeline, item_document

    async def go() -> TimelinePage:
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            return await contact_timeline(c.store, found, contact_id, cursor, limit)

    page = run(go())
    items = [item_document(i) for i in page.items]
    if as_json:
        next_cursor = page.next_cursor
        _print_json({"contact_id": page.contact.id, "items": items, "next_cursor": next_cursor})
        return
    for item in items:
        details = ", ".join(
            f"{name}={value}"
            for name, value in item.items()
            if name not in ("at", "kind", "id") and value not in (None, "")
        )
        out.print(f"{item['at']}  {item['kind']:<18} {item['id']}  {details}", highlight=False)
    if not items:
        out.print("nothing recorded", highlight=False)
    if page.next_cursor is not None:
        out.print(f"more: --cursor {page.next_cursor}", highlight=False)


attr_app = typer.Typer(
    rich_markup_mode=None,
    help="A contact's custom attributes (declared in the bundle's tenant.attributes).",
    no_args_is_help=True,
)
app.add_typer(attr_app, name="attr")


@attr_app.command("set")
def attr_set(
    contact_id: Annotated[str, typer.Argument(metavar="CONTACT", help="The contact's id.")],
    assignments: Annotated[
        list[str],
        typer.Argument(metavar="NAME=VALUE...", help="Values to set; NAME= clears one."),
    ],
    tenant: TenantOption = None,
) -> None:
    """Set attributes of a contact, all or nothing (a bad one is named, nothing applied)."""
    from kindbot.contacts.attributes import parse_assignments
    from kindbot.core.records.directory import ContactAttribute
    from kindbot.ops.directory import attributes_document, set_attributes

    async def go() -> list[ContactAttribute]:
        values = parse_assignments(assignments)
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            return await set_attributes(
                c.store, found, contact_id, values, c.clock.now(), from_text=True
            )

    document = attributes_document(run(go()))
    _print_json({"contact_id": contact_id, "attributes": document})


@attr_app.command("show")
def attr_show(
    contact_id: Annotated[str, typer.Argument(metavar="CONTACT", help="The contact's id.")],
    tenant: TenantOption = None,
) -> None:
    """Print the contact's attribute values as JSON."""
    from kindbot.core.records.directory import ContactAttribute
    from kindbot.ops.directory import attributes_document, get_attributes

    async def go() -> list[ContactAttribute]:
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            return await get_attributes(c.store, found, contact_id)

    _print_json({"contact_id": contact_id, "attributes": attributes_document(run(go()))})
