"""``kindbot kb``: import, query, evaluate and tune a tenant's knowledge base; list what it
cannot answer."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kindbot.cli.common import fail, open_app, out, pick_tenant, run
from kindbot.core.errors import InputFileError
from kindbot.core.records.knowledge import KbTuning, KnowledgeEntry
from kindbot.core.records.tenancy import TenantRecord

if TYPE_CHECKING:  # retrieval pulls in NumPy and SciPy: imported where a command needs it
    from kindbot.dialogue.kb_eval import EvalCase, EvalReport
    from kindbot.dialogue.kb_tune import ThresholdChoice
    from kindbot.dialogue.retrieval import KnowledgeIndex
    from kindbot.ops.knowledge_base import SavedEntries, UnansweredReport

app = typer.Typer(
    rich_markup_mode=None,
    help="Knowledge base: import, query, evaluate, tune, unanswered.",
    no_args_is_help=True,
)

TenantOption = Annotated[
    str | None, typer.Option("--tenant", "-t", help="Tenant slug (optional when only one exists).")
]


def _read_entries(path: Path) -> list[KnowledgeEntry]:
    from kindbot.dialogue.kb_files import read_knowledge_file

    try:
        return read_knowledge_file(path)
    except InputFileError as exc:
        fail("nothing was imported:\n" + "\n".join(f"  {p}" for p in exc.problems))


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, JSON or YAML with question/answer.")],
    tenant: TenantOption = None,
) -> None:
    """Add or update entries (by id) from FILE, all or nothing."""
    entries = _read_entries(file)

    async def go() -> tuple[str, SavedEntries]:
        from kindbot.ops.knowledge_base import save_entries

        async with open_app() as c:
            async with c.store.transaction(readonly=True) as tx:
                found = await pick_tenant(tx, tenant)
            return found.slug, await save_entries(c.store, c.knowledge, found.id, entries)

    slug, saved = run(go())
    out.print(
        f"{slug}: {saved.created} created, {saved.updated} updated, {saved.unchanged} unchanged "
        f"({file})",
        markup=False,
    )
    if saved.encoded:
        out.print(f"  sentence vectors: {saved.encoded} texts encoded and stored", markup=False)


async def _tenant_index(slug: str | None) -> tuple[TenantRecord, KnowledgeIndex]:
    async with open_app() as c:
        async with c.store.transaction() as tx:
            found = await pick_tenant(tx, slug)
        return found, await c.knowledge.index_for(found.id)


def _threshold(tenant: TenantRecord, index: KnowledgeIndex, override: float | None) -> float:
    from kindbot.dialogue.retrieval import effective_threshold

    if override is not None:
        return override
    return effective_threshold(index, tenant.kb_threshold)


@app.command()
def query(
    text: Annotated[
        list[str] | None, typer.Argument(help="Queries; stdin lines when omitted.")
    ] = None,
    tenant: TenantOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    threshold: Annotated[
        float | None, typer.Option(help="Override the tenant's threshold.")
    ] = None,
) -> None:
    """Show what the bot would answer from the knowledge base."""
    from kindbot.ops.knowledge_base import answer_for

    queries = text or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    found, index = run(_tenant_index(tenant))
    limit = _threshold(found, index, threshold)
    for q in queries:
        result = answer_for(index, q, limit)
        ranked = result.candidates
        match = ranked[0] if ranked else None
        answered = result.answered
        row = {
            "query": q,
            "id": answered.entry_id if answered else None,
            "question": match.question if match else None,
            "score": round(match.score, 4) if match else 0.0,
            "answer": answered.answer if answered else None,
            "decision": result.decision,
            "candidates": [
                {"id": m.entry_id, "question": m.question, "score": round(m.score, 4)}
                for m in ranked
            ],
        }
        if as_json:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        elif answered:
            out.print(
                f"[bold]{escape(q)}[/] → [green]{escape(answered.entry_id)}[/] "
                f"({answered.score:.3f}) {escape(answered.answer)}"
            )
        elif result.decision == "clarify":
            choices = "; ".join(f"{m.entry_id} ({m.score:.3f})" for m in ranked)
            out.print(f"[bold]{escape(q)}[/] → [yellow]ask which[/]: {escape(choices)}")
        else:
            out.print(
                f"[bold]{escape(q)}[/] → [yellow]not sure[/] "
                f"(best {row['score']}): hand to a person"
            )


def _print_report(report: EvalReport, always: EvalReport | None = None) -> None:
    table = Table(title="knowledge base evaluation", show_header=False)
    for label, value in [
        ("queries", report.total),
        ("answered", report.answered),
        ("top-1 accuracy (in scope)", report.top1_accuracy),
        (
            "top-1 accuracy, always answering",
            always.top1_accuracy if always is not None else None,
        ),
        ("fallback precision", report.fallback_precision),
        ("fallback recall (out of scope)", report.fallback_recall),
        ("wrong answers", report.wrong_answers),
        ("accuracy with fallback", report.accuracy_with_fallback),
        ("threshold", report.threshold),
    ]:
        shown = (
            f"{value:.3f}"
            if isinstance(value, float)
            else str(value if value is not None else "n/a")
        )
        table.add_row(label, shown)
    out.print(table)
    if report.worst_entries:
        worst = Table("entry", "misses", "example query", title="worst entries")
        for miss in report.worst_entries:
            worst.add_row(escape(miss.entry_id), str(miss.misses), escape(miss.example_query))
        out.print(worst)


@app.command("eval")
def eval_(
    file: Annotated[Path, typer.Argument(help="Labelled queries: columns query, expected.")],
    tenant: TenantOption = None,
    threshold: Annotated[
        float | None, typer.Option(help="Override the tenant's threshold.")
    ] = None,
) -> None:
    """Accuracy, fallback precision/recall and the worst entries on labelled queries."""
    from kindbot.dialogue.kb_eval import summarize, top_matches

    cases = _read_cases_or_fail(file)
    found, index = run(_tenant_index(tenant))
    with out.status(f"answering {len(cases)} queries"):
        matches = top_matches(index, cases)
    limit = _threshold(found, index, threshold)
    report = summarize(cases, matches, limit, index.entry_ids)
    _print_report(report, summarize(cases, matches, 0.0))


def _read_cases_or_fail(file: Path) -> list[EvalCase]:
    from kindbot.dialogue.kb_eval import read_eval_file

    try:
        return read_eval_file(file)
    except InputFileError as exc:
        fail("\n".join(str(p) for p in exc.problems))


@app.command()
def tune(
    file: Annotated[Path, typer.Argument(help="Labelled queries: columns query, expected.")],
    tenant: TenantOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the choice without storing it.")
    ] = False,
) -> None:
    """Choose and store the tenant's threshold: the one that maximises accuracy with
    fallback (right answers + fallbacks on NONE queries) on FILE."""
    from kindbot.dialogue.kb_eval import summarize, top_matches
    from kindbot.dialogue.kb_tune import choose_threshold

    cases = _read_cases_or_fail(file)
    found, index = run(_tenant_index(tenant))
    before = _threshold(found, index, None)
    with out.status(f"answering {len(cases)} queries"):
        matches = top_matches(index, cases)
    choice = choose_threshold(cases, matches)
    if not dry_run:
        run(_save_tuning(found.id, choice, len(cases)))
    _print_report(choice.report, summarize(cases, matches, 0.0))
    verb = "would be" if dry_run else "is now"
    out.print(
        f"{found.slug}: threshold {verb} {choice.threshold:.2f} (was {before:.2f}); "
        f"accuracy with fallback {choice.accuracy:.3f} on {len(cases)} queries",
        markup=False,
    )
    if not choice.report.out_of_scope:
        out.print(
            "note: no NONE queries in the file, so nothing rewarded falling back; "
            "add questions the bot must not answer.",
            markup=False,
        )


async def _save_tuning(tenant_id: str, choice: ThresholdChoice, cases: int) -> None:
    tuning = KbTuning(choice.threshold, cases, choice.accuracy, datetime.now(UTC))
    async with (
        open_app() as c,
        c.store.transaction() as tx,
    ):
        await tx.kb.save_tuning(tenant_id, tuning)


_RELATIVE = re.compile(r"(\d+)([dh])")


def parse_since(value: str, now: datetime) -> datetime:
    """``7d`` / ``12h`` (before ``now``), or an ISO date or time (UTC unless it says).

    Raises ``ValueError`` on anything else.
    """
    relative = _RELATIVE.fullmatch(value.strip())
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return now - (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
    moment = datetime.fromisoformat(value.strip())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _report(
    slug: str | None, since: datetime | None, limit: int, similarity: float | None
) -> UnansweredReport:
    """The grouped questions the tenant's current knowledge base still cannot answer."""
    from kindbot.ops.knowledge_base import unanswered_report

    async with open_app() as c:
        async with c.store.transaction(readonly=True) as tx:
            found = await pick_tenant(tx, slug)
        return await unanswered_report(
            c.store, c.knowledge, found, since=since, limit=limit, similarity=similarity
        )


@app.command("unanswered")
def unanswered_(
    tenant: TenantOption = None,
    since: Annotated[
        str | None, typer.Option(help="Only messages since: 7d, 12h, or an ISO date/time.")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, help="Read at most this many recent messages.")
    ] = 5000,
    similarity: Annotated[
        float | None,
        typer.Option(
            min=0.05,
            max=1.0,
            help="Mean cosine to join a group (default 0.4 between sentence vectors; "
            "0.3 between word vectors when no sentence encoder is configured).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per group.")] = False,
) -> None:
    """Group the stored customer questions the knowledge base still cannot answer,
    asked by the most customers first: where new entries (or new phrasings of the
    nearest entry) would help most."""
    start = None
    if since is not None:
        try:
            start = parse_since(since, datetime.now(UTC))
        except ValueError:
            fail(f"--since {since!r}: use 7d, 12h or an ISO date such as 2026-11-30")
    report = run(_report(tenant, start, limit, similarity))
    if as_json:
        for group in report.groups:
            cluster, near = group.cluster, group.nearest
            row = {
                "count": cluster.count,
                "customers": cluster.customers,
                "leader": cluster.leader,
                "examples": cluster.examples,
                "nearest": near.entry_id if near else None,
                "nearest_score": round(near.score, 4) if near else None,
            }
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    _print_groups(report)


def _print_groups(report: UnansweredReport) -> None:
    if not report.groups:
        out.print("no unanswered questions", markup=False)
        return
    table = Table(
        "customers",
        "asked",
        "question",
        "similar questions",
        "nearest entry",
        title=f"{report.messages} unanswered questions from {report.customers} customers",
    )
    for group in report.groups:
        cluster, near = group.cluster, group.nearest
        others = " | ".join(cluster.examples[1:])
        nearest = f"{near.entry_id} ({near.score:.2f})" if near else ""
        table.add_row(
            str(cluster.customers),
            str(cluster.count),
            escape(cluster.leader),
            escape(others),
            escape(nearest),
        )
    out.print(table)
