"""``kindbot moderate`` and ``kindbot moderation``: screen texts, edit lexicons, train, evaluate."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kindbot.bundles.tenants import default_actor
from kindbot.cli.common import fail, open_app, out, pick_tenant, run
from kindbot.core.errors import InputFileError
from kindbot.core.records.moderation import ModerationTerm, TermAction
from kindbot.core.records.tenancy import TenantRecord
from kindbot.core.screening import ContentContext, Direction, ScreeningVerdict
from kindbot.settings import Settings

if TYPE_CHECKING:
    from kindbot.bootstrap import Container
    from kindbot.moderation.classifier import NgramClassifier
    from kindbot.moderation.evaluation import EvalReport, LabelledText
    from kindbot.moderation.screener import LexiconScreener

app = typer.Typer(
    rich_markup_mode=None,
    help="Content moderation: lexicon edits, training, evaluation.",
    no_args_is_help=True,
)
terms_app = typer.Typer(
    rich_markup_mode=None,
    help="The platform's or a tenant's own moderation terms.",
    no_args_is_help=True,
)
app.add_typer(terms_app, name="terms")

MAX_LINE_CHARS = 1_048_576
"""Longer stdin lines are screened in their first MiB only."""

TenantOption = Annotated[
    str | None, typer.Option("--tenant", "-t", help="Tenant slug (default: the platform).")
]
ModelOption = Annotated[
    Path | None, typer.Option("--model", help="Also use a model from `moderation train`.")
]


class DirectionChoice(StrEnum):
    inbound = "inbound"
    outbound = "outbound"


def _has_database(settings: Settings) -> bool:
    return settings.database_url is not None or settings.data_dir.exists()


def _classifier(model: Path | None) -> NgramClassifier | None:
    if model is None:
        return None
    from kindbot.moderation import classifier as ngram  # scikit-learn: only when asked for

    try:
        return ngram.load(model)
    except InputFileError as exc:
        fail(str(exc))


async def _stored(tenant: str | None) -> tuple[list[ModerationTerm], str | None]:
    """Every stored term, and the id of ``tenant`` (None: platform only)."""
    settings = Settings.from_env()
    if not _has_database(settings):
        if tenant is not None:
            fail(f"no tenant {tenant!r}: there is no database yet (kindbot apply FILE)")
        return [], None
    async with (
        open_app(settings) as c,
        c.store.transaction(readonly=True) as tx,
    ):
        tenant_id = (await pick_tenant(tx, tenant)).id if tenant is not None else None
        return await tx.moderation_terms.all(), tenant_id


def _screener(tenant: str | None, model: Path | None) -> tuple[LexiconScreener, str | None]:
    from kindbot.moderation.screener import build_screener, default_screener

    classifier = _classifier(model)
    terms, tenant_id = run(_stored(tenant))
    if not terms:
        return default_screener(classifier), tenant_id
    return build_screener(terms, classifier), tenant_id


def _stdin_texts() -> list[str]:
    raw = sys.stdin.buffer.read()
    text = raw.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r")[:MAX_LINE_CHARS] for line in lines]


def _as_json(text: str, verdict: ScreeningVerdict) -> str:
    matches = [
        {
            "term": m.term,
            "category": m.category.value,
            "rule": m.rule,
            "start": m.start,
            "end": m.end,
            "excerpt": m.excerpt,
        }
        for m in verdict.matches
    ]
    return json.dumps(
        {
            "text": text,
            "verdict": verdict.level.value,
            "categories": [c.value for c in verdict.categories],
            "matches": matches,
        },
        ensure_ascii=False,
    )


def _as_line(text: str, verdict: ScreeningVerdict) -> str:
    shown = text if len(text) <= 60 else text[:57] + "…"
    if not verdict.matches:
        return f"{verdict.level.value:5}  {shown}"
    reasons = "; ".join(f"{m.rule} {m.term!r} @{m.start}-{m.end}" for m in verdict.matches)
    categories = ",".join(c.value for c in verdict.categories)
    return f"{verdict.level.value:5}  {categories}  {shown}  ({reasons})"


def moderate(
    text: Annotated[
        list[str] | None, typer.Argument(help="Texts; stdin lines when omitted.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    direction: Annotated[
        DirectionChoice, typer.Option(help="Who wrote it: a contact (inbound) or the bot.")
    ] = DirectionChoice.outbound,
    proactive: Annotated[bool, typer.Option(help="An unrequested outbound message.")] = False,
    group: Annotated[bool, typer.Option(help="Said in a group chat.")] = False,
    tenant: TenantOption = None,
    model: ModelOption = None,
) -> None:
    """Screen texts (args, or stdin one per line) and print each verdict with its reasons."""
    texts = list(text) if text else _stdin_texts()
    screener, tenant_id = _screener(tenant, model)
    context = ContentContext(
        direction=Direction(direction.value), proactive=proactive, group=group, tenant_id=tenant_id
    )
    for item in texts:
        verdict = screener.screen(item, context)
        line = _as_json(item, verdict) if as_json else _as_line(item, verdict)
        sys.stdout.write(line + "\n")  # verbatim: the texts are data, never rich markup
    sys.stdout.flush()


async def _scope(c: Container, tenant: str | None) -> TenantRecord | None:
    if tenant is None:
        return None
    async with c.store.transaction(readonly=True) as tx:
        return await pick_tenant(tx, tenant)


async def _terms(tenant: str | None) -> tuple[str, list[ModerationTerm]]:
    from kindbot.ops import moderation_terms as terms_ops

    async with open_app() as c:
        scope = await _scope(c, tenant)
        return (scope.slug if scope else "platform"), await terms_ops.list_terms(c.store, scope)


@terms_app.command("list")
def list_terms(tenant: TenantOption = None) -> None:
    """List the stored terms of the platform, or of --tenant."""
    scope, found = run(_terms(tenant))
    table = Table(title=f"moderation terms: {scope}")
    for column in ("term", "action", "category", "added", "by"):
        table.add_column(column)
    for term in found:
        table.add_row(
            escape(term.term),
            term.action.value,
            term.category or "",
            term.created_at.strftime("%Y-%m-%d %H:%M"),
            escape(term.created_by),
        )
    out.print(table)


async def _add(
    tenant: str | None, term: str, category: str | None, action: TermAction, by: str
) -> str:
    from kindbot.ops import moderation_terms as terms_ops

    async with open_app() as c:
        scope = await _scope(c, tenant)
        added = await terms_ops.add_term(
            c.store,
            scope,
            term=term,
            category=category,
            action=action,
            created_by=by,
            now=c.clock.now(),
        )
    where = scope.slug if scope else "platform"
    return (
        f"{where}: added {action.value} {term!r}"
        if added.created
        else f"{where}: already has {term!r}"
    )


@terms_app.command("add")
def add_term(
    term: Annotated[str, typer.Argument(help="The word or phrase.")],
    action: Annotated[TermAction, typer.Option(help="deny (block outbound), flag or allow.")],
    category: Annotated[
        str | None, typer.Option(help="gambling, pornography, fraud, drugs, diversion, abuse.")
    ] = None,
    tenant: TenantOption = None,
    by: Annotated[str | None, typer.Option(help="Who makes the change (audit).")] = None,
) -> None:
    """Add a term to the platform lexicon, or to --tenant's own; applies within a second."""
    out.print(
        run(_add(tenant, term.strip(), category, action, by or default_actor())), markup=False
    )


async def _remove(tenant: str | None, term: str) -> str:
    from kindbot.ops import moderation_terms as terms_ops

    async with open_app() as c:
        scope = await _scope(c, tenant)
        await terms_ops.remove_term(c.store, scope, term)
        return scope.slug if scope else "platform"


@terms_app.command("remove")
def remove_term(
    term: Annotated[str, typer.Argument(help="The term to remove.")],
    tenant: TenantOption = None,
) -> None:
    """Remove a stored term from the platform lexicon, or from --tenant's own."""
    where = run(_remove(tenant, term.strip()))
    out.print(f"{where}: removed {term.strip()!r}", markup=False)


def _read(file: Path) -> list[LabelledText]:
    from kindbot.moderation.evaluation import read_labelled

    try:
        return read_labelled(file)
    except InputFileError as exc:
        fail(f"cannot use {file}:\n{exc}")


@app.command()
def train(
    file: Annotated[Path, typer.Argument(help="Labelled TSV: text, expected[, direction].")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the model.")] = Path(
        "moderation-model.pkl"
    ),
) -> None:
    """Train the optional character n-gram model on FILE (off unless --model is given)."""
    from kindbot.moderation import classifier as ngram  # scikit-learn: only when asked for

    rows = _read(file)
    try:
        model = ngram.train(rows)
    except InputFileError as exc:
        fail(str(exc))
    ngram.save(model, out_path)
    out.print(f"trained on {len(rows)} rows; model written to {out_path}", markup=False)


def _print_report(report: EvalReport) -> None:
    table = Table(title="moderation quality")
    for column in ("category", "support", "predicted", "precision", "recall", "F1"):
        table.add_column(column, justify="right" if column != "category" else "left")
    for s in report.scores:
        table.add_row(
            s.category,
            str(s.support),
            str(s.predicted),
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            f"{s.f1:.3f}",
        )
    out.print(table)
    ok_rows = sum(1 for o in report.outcomes if o.row.expected == "ok")
    out.print(
        f"flagged recall {report.flagged_recall:.3f}; "
        f"false positives on ok rows {report.false_positive_rate:.3%} "
        f"({len(report.false_positives)} of {ok_rows})",
        markup=False,
    )
    for title, outcomes in (("false positives", report.false_positives), ("misses", report.misses)):
        out.print(f"\n{title} ({len(outcomes)}):", markup=False)
        for o in outcomes:
            got = ",".join(o.predicted) or "ok"
            out.print(f"  expected {o.row.expected:11} got {got:20} {o.row.text}", markup=False)


@app.command("eval")
def eval_(
    file: Annotated[Path, typer.Argument(help="Labelled TSV: text, expected[, direction].")],
    model: ModelOption = None,
) -> None:
    """Precision, recall and F1 per category on FILE; lists false positives and misses."""
    from kindbot.moderation.evaluation import evaluate
    from kindbot.moderation.screener import default_screener

    rows = _read(file)
    screener = default_screener(_classifier(model))
    _print_report(evaluate(screener, rows))
