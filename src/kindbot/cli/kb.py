"""``kindbot kb``: import, query and evaluate a tenant's knowledge base."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kindbot.bootstrap import open_container
from kindbot.cli.common import fail, out, pick_tenant, run
from kindbot.dialogue.kb_eval import EvalReport, evaluate, read_eval_file
from kindbot.dialogue.kb_files import read_knowledge_file
from kindbot.dialogue.retrieval import DEFAULT_THRESHOLD, KnowledgeIndex
from kindbot.errors import InputFileError
from kindbot.records import KnowledgeEntry, TenantRecord
from kindbot.settings import Settings

app = typer.Typer(help="Knowledge base: import, query, evaluate.", no_args_is_help=True)

TenantOption = Annotated[
    str | None, typer.Option("--tenant", "-t", help="Tenant slug (optional when only one exists).")
]


def _read_entries(path: Path) -> list[KnowledgeEntry]:
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

    async def go() -> tuple[str, int, int, int]:
        async with open_container(Settings.from_env(), auto_migrate=True) as c:
            async with c.store.transaction() as tx:
                found = await pick_tenant(tx, tenant)
                created, updated, same = await tx.knowledge.upsert_many(found.id, entries)
            return found.slug, created, updated, same

    slug, created, updated, same = run(go())
    out.print(
        f"{slug}: {created} created, {updated} updated, {same} unchanged ({file})", markup=False
    )


async def _tenant_index(slug: str | None) -> tuple[TenantRecord, KnowledgeIndex]:
    async with open_container(Settings.from_env(), auto_migrate=True) as c:
        async with c.store.transaction() as tx:
            found = await pick_tenant(tx, slug)
        return found, await c.knowledge.index_for(found.id)


def _threshold(tenant: TenantRecord, override: float | None) -> float:
    if override is not None:
        return override
    return tenant.kb_threshold if tenant.kb_threshold is not None else DEFAULT_THRESHOLD


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
    queries = text or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    found, index = run(_tenant_index(tenant))
    limit = _threshold(found, threshold)
    for q in queries:
        best = index.search(q, limit=1)
        match = best[0] if best else None
        answered = match is not None and match.score >= limit
        row = {
            "query": q,
            "id": match.entry_id if answered and match else None,
            "question": match.question if match else None,
            "score": round(match.score, 4) if match else 0.0,
            "answer": match.answer if answered and match else None,
        }
        if as_json:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        elif answered and match:
            out.print(
                f"[bold]{escape(q)}[/] → [green]{escape(match.entry_id)}[/] "
                f"({match.score:.3f}) {escape(match.answer)}"
            )
        else:
            out.print(
                f"[bold]{escape(q)}[/] → [yellow]not sure[/] "
                f"(best {row['score']}): hand to a person"
            )


def _print_report(report: EvalReport) -> None:
    table = Table(title="knowledge base evaluation", show_header=False)
    for label, value in [
        ("queries", report.total),
        ("answered", report.answered),
        ("top-1 accuracy (in scope)", report.top1_accuracy),
        ("fallback precision", report.fallback_precision),
        ("fallback recall (out of scope)", report.fallback_recall),
        ("wrong answers", report.wrong_answers),
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
    try:
        cases = read_eval_file(file)
    except InputFileError as exc:
        fail("\n".join(str(p) for p in exc.problems))
    found, index = run(_tenant_index(tenant))
    with out.status(f"answering {len(cases)} queries"):
        report = evaluate(index, cases, _threshold(found, threshold))
    _print_report(report)
