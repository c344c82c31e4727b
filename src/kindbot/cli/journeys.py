"""``kindbot journey list|runs|withdraw``: a shop's follow-ups (declared in its bundle's
``journeys:`` or over the REST API) and how each contact's run of one went."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kindbot.cli.common import fail, open_app, out, run
from kindbot.cli.contact_options import TenantOption, load_tenant

if TYPE_CHECKING:
    from kindbot.core.records.journeys import JourneyRecord, JourneyRun, RunStatus

app = typer.Typer(
    rich_markup_mode=None,
    help="Journeys: follow-ups some time after a contact's first message, an order, a tag.",
    no_args_is_help=True,
)


@app.command("list")
def list_journeys(tenant: TenantOption = None) -> None:
    """The tenant's journeys and how many runs are in each status."""
    from kindbot.core.journeys import format_delay
    from kindbot.core.records.journeys import RunStatus

    async def go() -> tuple[list[JourneyRecord], dict[str, dict[RunStatus, int]]]:
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            async with c.store.transaction(readonly=True) as tx:
                return await tx.journeys.list_for_tenant(found.id), await tx.journeys.counts(
                    found.id
                )

    journeys, counts = run(go())
    if not journeys:
        out.print("no journeys (declare them in the bundle's journeys: or over the API)")
        return
    table = Table("journey", "trigger", "delay", "topic", "on", "runs")
    for journey in journeys:
        d = journey.definition
        trigger = d.trigger.value + (f":{d.trigger_value}" if d.trigger_value else "")
        per = counts.get(journey.id, {})
        table.add_row(
            d.name,
            trigger,
            format_delay(d.delay_seconds),
            d.topic,
            "yes" if journey.enabled else "no",
            ", ".join(f"{s.value} {per[s]}" for s in RunStatus if per.get(s)) or "none",
        )
    out.print(table)


@app.command("runs")
def journey_runs(
    name: Annotated[str, typer.Argument(help="The journey's name.")],
    tenant: TenantOption = None,
    status: Annotated[
        str | None, typer.Option(help="Only runs in this status (scheduled, sent, …).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """The journey's runs, latest due first: contact, trigger, when due, how it ended."""
    from kindbot.core.errors import NotFoundError
    from kindbot.core.records.journeys import RunStatus

    if status is not None and status not in RunStatus._value2member_map_:
        fail(f"--status: one of {', '.join(s.value for s in RunStatus)}")
    wanted = RunStatus(status) if status is not None else None

    async def go() -> list[JourneyRun]:
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            async with c.store.transaction(readonly=True) as tx:
                journey = await tx.journeys.get(found.id, name)
                if journey is None:
                    raise NotFoundError(f"no journey {name!r}", code="unknown_journey")
                return await tx.journeys.runs(journey.id, wanted, limit)

    runs = run(go())
    table = Table("contact", "trigger", "due", "status", "reason")
    for r in runs:
        table.add_row(
            r.contact_id,
            r.trigger_ref,
            f"{r.due_at:%Y-%m-%d %H:%M}Z",
            r.status.value,
            r.reason or "",
        )
    out.print(table)


@app.command("withdraw")
def withdraw(
    name: Annotated[str, typer.Argument(help="The journey's name.")],
    tenant: TenantOption = None,
) -> None:
    """Withdraw the journey: its scheduled runs are cancelled (and kept, with why)."""

    async def go() -> int:
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            return await c.journeys.withdraw(found.id, name)

    cancelled = run(go())
    out.print(f"withdrew {name}: {cancelled} scheduled runs cancelled")
