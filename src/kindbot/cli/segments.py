"""``kindbot segment``: saved, named filters on a tenant's contacts (issue 16 §3).

Each command calls the :mod:`kindbot.ops.segments` function the REST API
calls. A definition comes from ``--file def.json`` or ``--json '{...}'``; an
invalid one is reported with the file (or ``--json``) and each problem's path
(``all_of[2].orders.min``), and nothing is saved.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from kindbot.cli.common import fail, open_app, out, print_json, run
from kindbot.cli.contact_options import TenantOption, load_tenant

if TYPE_CHECKING:
    from kindbot.ops.segments import Preview, SavedSegment
    from kindbot.segments.definition import SegmentDefinition

app = typer.Typer(
    rich_markup_mode=None,
    help="Segments: saved filters on contacts (tags, consent, activity, orders, RFM).",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The segment's name (unique in the tenant).")]
FileOption = Annotated[
    Path | None, typer.Option("--file", "-f", help="A JSON file with the definition.")
]
JsonOption = Annotated[str | None, typer.Option("--json", help="The definition as JSON text.")]
AsJson = Annotated[bool, typer.Option("--as-json", help="Print JSON instead of a table.")]
ListJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _definition(file: Path | None, text: str | None) -> SegmentDefinition:
    """The definition from ``--file`` or ``--json`` (exactly one), or a clear exit."""
    from kindbot.segments.codec import InvalidSegmentError, parse_definition_text

    if (file is None) == (text is None):
        fail("give the definition with exactly one of --file FILE or --json TEXT")
    source = "--json"
    if file is not None:
        source = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            fail(f"{file}: cannot read the definition: {error}")
    assert text is not None
    try:
        return parse_definition_text(text)
    except InvalidSegmentError as error:
        fail("nothing was saved:\n" + "\n".join(f"  {source}: {p}" for p in error.problems))


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _document(saved: SavedSegment) -> dict[str, Any]:
    import json

    from kindbot.segments.codec import definition_text

    return {
        "name": saved.name,
        "definition": json.loads(definition_text(saved.definition)),
        "created_at": saved.created_at.isoformat(),
        "created_by": saved.created_by,
        "updated_at": saved.updated_at.isoformat(),
    }


def _show_preview(preview: Preview, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "count": preview.count,
                "sample": [
                    {
                        "contact_id": m.contact_id,
                        "display_name": m.display_name,
                        "channel": m.channel,
                    }
                    for m in preview.sample
                ],
            }
        )
        return
    out.print(f"{preview.count} members", highlight=False)
    if preview.sample:
        table = Table(title=f"first {len(preview.sample)} by contact id")
        table.add_column("contact id")
        table.add_column("name")
        table.add_column("channel")
        for member in preview.sample:
            table.add_row(member.contact_id, member.display_name or "—", member.channel)
        out.print(table)


@app.command("create")
def create(
    name: NameArgument,
    tenant: TenantOption = None,
    file: FileOption = None,
    text: JsonOption = None,
) -> None:
    """Save a new segment NAME with the definition in --file or --json."""
    from kindbot.ops.segments import create_segment

    definition = _definition(file, text)

    async def go() -> SavedSegment:
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            return await create_segment(
                c.store, found, name, definition, actor=_actor(), now=c.clock.now()
            )

    saved = run(go())
    out.print(f"segment {saved.name!r} saved", highlight=False)


@app.command("update")
def update(
    name: NameArgument,
    tenant: TenantOption = None,
    file: FileOption = None,
    text: JsonOption = None,
) -> None:
    """Replace segment NAME's definition with the one in --file or --json."""
    from kindbot.ops.segments import replace_segment

    definition = _definition(file, text)

    async def go() -> SavedSegment:
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            return await replace_segment(c.store, found, name, definition, now=c.clock.now())

    saved = run(go())
    out.print(f"segment {saved.name!r} updated", highlight=False)


@app.command("list")
def list_command(tenant: TenantOption = None, as_json: ListJson = False) -> None:
    """The tenant's saved segments."""
    from kindbot.ops.segments import list_segments

    async def go() -> list[SavedSegment]:
        async with open_app() as c:
            return await list_segments(c.store, await load_tenant(c.store, tenant))

    saved = run(go())
    if as_json:
        print_json([_document(s) for s in saved])
        return
    table = Table(title="segments")
    table.add_column("name")
    table.add_column("conditions", justify="right")
    table.add_column("updated")
    table.add_column("by")
    for segment in saved:
        table.add_row(
            segment.name,
            str(len(segment.definition.conditions)),
            segment.updated_at.isoformat(timespec="seconds"),
            segment.created_by,
        )
    out.print(table)


@app.command("show")
def show(name: NameArgument, tenant: TenantOption = None) -> None:
    """Segment NAME as JSON (its definition, who saved it and when)."""
    from kindbot.ops.segments import get_segment

    async def go() -> SavedSegment:
        async with open_app() as c:
            return await get_segment(c.store, await load_tenant(c.store, tenant), name)

    print_json(_document(run(go())))


@app.command("preview")
def preview(
    name: Annotated[
        str | None, typer.Argument(help="A saved segment (or give --file/--json instead).")
    ] = None,
    tenant: TenantOption = None,
    file: FileOption = None,
    text: JsonOption = None,
    sample: Annotated[int, typer.Option("--sample", help="Members to show (0-100).")] = 20,
    as_json: AsJson = False,
) -> None:
    """How many contacts are in segment NAME (or an unsaved definition) now, and the first few."""
    from kindbot.ops.segments import preview_definition, preview_segment

    if not 0 <= sample <= 100:
        fail("--sample: from 0 to 100")
    definition = None
    if name is None:
        definition = _definition(file, text)
    elif file is not None or text is not None:
        fail("give either a segment NAME or --file/--json, not both")

    async def go() -> Preview:
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            now = c.clock.now()
            if definition is not None:
                return await preview_definition(c.store, found, definition, now=now, sample=sample)
            assert name is not None
            return await preview_segment(c.store, found, name, now=now, sample=sample)

    _show_preview(run(go()), as_json)


@app.command("delete")
def delete(name: NameArgument, tenant: TenantOption = None) -> None:
    """Delete segment NAME (its contacts are untouched)."""
    from kindbot.ops.segments import delete_segment

    async def go() -> None:
        async with open_app() as c:
            await delete_segment(c.store, await load_tenant(c.store, tenant), name)

    run(go())
    out.print(f"segment {name!r} deleted", highlight=False)
