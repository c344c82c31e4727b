"""``kindbot events import`` and ``kindbot metrics``: the shop's business events in, the
value metrics out (issue 16). Both call the functions the REST API calls."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from kindbot.cli.common import err, open_app, out, print_json, run
from kindbot.cli.contact_options import TenantOption, load_tenant

if TYPE_CHECKING:
    from kindbot.core.records.analytics import ImportOutcome

events_app = typer.Typer(
    rich_markup_mode=None,
    help="Business events (orders, refunds, sign-ups) from the shop's own systems.",
    no_args_is_help=True,
)


@events_app.command("import")
def import_events(
    file: Annotated[Path, typer.Argument(help="A .csv (header row) or .jsonl file of events.")],
    tenant: TenantOption = None,
) -> None:
    """Import FILE's events into the tenant, all or nothing.

    Every row is checked first; a bad row is reported with the file, the row
    and the field, and nothing is applied. A repeated event_id is ignored, so
    importing the same file again changes nothing.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from kindbot.ops.events import estimate_rows, import_event_file

    async def go() -> ImportOutcome:
        total = estimate_rows(file)
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
            with Progress(
                *columns,
                TimeElapsedColumn(),
                console=err,
                transient=True,
                disable=not err.is_terminal,  # a pipe or a log gets the summary only
            ) as bar:
                task = bar.add_task("importing", total=total)
                return await import_event_file(
                    c.store,
                    found,
                    file,
                    c.clock.now(),
                    progress=lambda n: bar.advance(task, n),
                )

    outcome = run(go())
    out.print(
        f"{file}: {outcome.accepted} events imported, {outcome.duplicates} already known (ignored)",
        highlight=False,
    )


def metrics(
    tenant: TenantOption = None,
    start: Annotated[str, typer.Option("--from", help="First local date (YYYY-MM-DD).")] = "",
    end: Annotated[
        str, typer.Option("--to", help="The local date after the last (YYYY-MM-DD).")
    ] = "",
    conversion_days: Annotated[
        int, typer.Option("--conversion-days", help="Conversion window in days.")
    ] = 30,
    repurchase_days: Annotated[
        int, typer.Option("--repurchase-days", help="Repurchase window in days.")
    ] = 90,
    channel: Annotated[
        str | None, typer.Option("--channel", "-c", help="Only this channel's contacts.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON document.")] = False,
) -> None:
    """Value metrics of the period [--from, --to) in the tenant's time zone.

    Users, orders, revenue, value per user, conversion, repurchase, the
    previous period and the value decomposition, weekly retention cohorts and
    conversation health (definitions: README, "Value metrics").
    """
    from kindbot.analytics.periods import check_period, parse_day
    from kindbot.ops.metrics import tenant_metrics

    async def go() -> dict[str, Any]:
        period = check_period(parse_day(start, "--from"), parse_day(end, "--to"))
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            return await tenant_metrics(
                c.store,
                found,
                period,
                conversion_days=conversion_days,
                repurchase_days=repurchase_days,
                channel=channel,
            )

    document = run(go())
    if as_json:
        print_json(document)
    else:
        _print_tables(document)


def _shown(value: object) -> str:
    return "—" if value is None else str(value)


def _print_tables(doc: dict[str, Any]) -> None:
    period = doc["period"]
    summary = Table(title=f"{period['from']} … {period['to']} (to excluded)", show_header=True)
    summary.add_column("metric")
    summary.add_column("this period", justify="right")
    summary.add_column("previous", justify="right")
    summary.add_column("ratio", justify="right")
    previous, ratios = doc["previous"], doc["value_decomposition"]
    conv, rep = doc["conversion"], doc["repurchase"]
    rows = [
        ("active users", doc["users"]["active"], previous["users_active"], ratios["users_ratio"]),
        ("new users", doc["users"]["new"], None, None),
        ("orders", doc["orders"], None, None),
        ("revenue", doc["revenue"], previous["revenue"], ratios["revenue_ratio"]),
        (
            "value per user",
            doc["value_per_user"],
            previous["value_per_user"],
            ratios["value_per_user_ratio"],
        ),
        (
            f"conversion ({conv['days']} d)",
            f"{conv['converted']}/{conv['cohort']} = {_shown(conv['rate'])}",
            None,
            None,
        ),
        (
            f"repurchase ({rep['days']} d)",
            f"{rep['repeat']}/{rep['buyers']} = {_shown(rep['rate'])}",
            None,
            None,
        ),
    ]
    for name, now, before, ratio in rows:
        summary.add_row(name, _shown(now), _shown(before), _shown(ratio))
    out.print(summary)
    if doc["retention"]:
        weeks = max(len(c["retained"]) for c in doc["retention"])
        cohorts = Table(title="weekly retention (share of the cohort active in week k)")
        cohorts.add_column("cohort")
        cohorts.add_column("size", justify="right")
        for k in range(weeks):
            cohorts.add_column(f"+{k}", justify="right")
        for cohort in doc["retention"]:
            cells = [_shown(r) for r in cohort["rates"]]
            cohorts.add_row(cohort["cohort_week"], str(cohort["size"]), *cells)
        out.print(cohorts)
    health = Table(title="conversations")
    health.add_column("measure")
    health.add_column("value", justify="right")
    for name, value in doc["conversations"].items():
        health.add_row(name.replace("_", " "), _shown(value))
    out.print(health)
