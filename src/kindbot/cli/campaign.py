"""``kindbot campaign``: campaigns with a holdout (issue 16 §4) — create, list, show,
submit, approve, cancel, report.

Nothing here sends: the campaign worker (``kindbot worker``, or ``kindbot
serve``'s in-process workers on embedded storage) sends a scheduled campaign
through the guard. The report is the same function the API calls.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from kindbot.bundles.tenants import default_actor
from kindbot.cli.common import open_app, out, pick_tenant, print_json, run
from kindbot.cli.send_options import ActorOpt, JsonOpt, TenantOpt, TopicOpt, settings_from_env
from kindbot.core.records.campaigns import CampaignRecord, RecipientCount, Variant

if TYPE_CHECKING:
    from kindbot.analytics.campaigns import CampaignReport
    from kindbot.bootstrap import Container
    from kindbot.campaigns.audiences import AudienceSpec
    from kindbot.campaigns.service import CampaignCreated

campaign_app = typer.Typer(
    rich_markup_mode=None,
    help="Campaigns: a message (in variants) for a topic to an audience, with a holdout.",
)

IdArg = Annotated[str, typer.Argument(help="The campaign's id.")]
VARIANT_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


async def _slug(c: Container, tenant: str | None) -> str:
    async with c.store.transaction(readonly=True) as tx:
        return (await pick_tenant(tx, tenant)).slug


def _variants(texts: list[str], weights: str | None) -> tuple[Variant, ...]:
    if not texts:
        raise typer.BadParameter("give at least one --text", param_hint="--text")
    if len(texts) > len(VARIANT_NAMES):
        raise typer.BadParameter(f"at most {len(VARIANT_NAMES)} variants", param_hint="--text")
    parsed = [1] * len(texts)
    if weights is not None:
        try:
            parsed = [int(part) for part in weights.split(",")]
        except ValueError:
            raise typer.BadParameter(
                "whole numbers separated by commas, e.g. 1,1", param_hint="--weights"
            ) from None
        if len(parsed) != len(texts):
            raise typer.BadParameter(
                f"{len(parsed)} weights for {len(texts)} texts", param_hint="--weights"
            )
    return tuple(
        Variant(VARIANT_NAMES[i], text, weight)
        for i, (text, weight) in enumerate(zip(texts, parsed, strict=True))
    )


def _contact_ref(value: str) -> tuple[str, str]:
    channel, sep, external_id = value.partition(":")
    if not sep or not channel or not external_id:
        raise typer.BadParameter(f"{value!r}: CHANNEL:EXTERNAL_ID", param_hint="--contact")
    return channel, external_id


async def _audience(
    c: Container, slug: str, tag: str | None, segment: str | None, refs: list[tuple[str, str]]
) -> AudienceSpec:
    from kindbot.campaigns.audiences import AudienceSpec
    from kindbot.ops.contacts import check_ref, find_contact

    ids: list[str] = []
    if refs:
        async with c.store.transaction(readonly=True) as tx:
            tenant = await pick_tenant(tx, slug)
            for channel, external_id in refs:
                ids.append((await find_contact(tx, tenant, check_ref(channel, external_id)))[1].id)
    return AudienceSpec(tag=tag, contact_ids=tuple(ids), segment=segment)


@campaign_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the campaign is called.")],
    topic: TopicOpt,
    texts: Annotated[
        list[str], typer.Option("--text", help="A variant's text (repeat: variants A, B, …).")
    ],
    tag: Annotated[
        str | None, typer.Option("--tag", help="Send to the contacts with this tag.")
    ] = None,
    segment: Annotated[str | None, typer.Option("--segment", help="Send to a segment.")] = None,
    contacts: Annotated[
        list[str] | None,
        typer.Option("--contact", help="CHANNEL:EXTERNAL_ID of one contact (repeatable)."),
    ] = None,
    weights: Annotated[
        str | None, typer.Option("--weights", help="Variants' weights, e.g. 1,1 (default equal).")
    ] = None,
    holdout: Annotated[
        float, typer.Option("--holdout", min=0.0, max=0.5, help="Share held out (0–0.5).")
    ] = 0.10,
    window_days: Annotated[
        int, typer.Option("--window-days", min=1, max=90, help="Attribution window in days.")
    ] = 7,
    starts_at: Annotated[
        datetime | None,
        typer.Option(
            "--starts-at",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z"],
            help="Scheduled start with its UTC offset, e.g. 2026-12-10T10:00:00+08:00.",
        ),
    ] = None,
    per_minute: Annotated[
        int | None, typer.Option("--per-minute", min=1, help="At most this many sends a minute.")
    ] = None,
    draft: Annotated[bool, typer.Option("--draft", help="Keep it a draft (see submit).")] = False,
    tenant: TenantOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Record a campaign (holdout chosen and recorded now) and print each variant's plan."""
    variants = _variants(texts, weights)
    refs = [_contact_ref(value) for value in contacts or []]

    async def go() -> CampaignCreated:
        from kindbot.campaigns.service import CampaignDraft

        async with open_app(settings_from_env()) as c:
            slug = await _slug(c, tenant)
            spec = await _audience(c, slug, tag, segment, refs)
            draft_ = CampaignDraft(
                name=name,
                topic=topic,
                audience=spec,
                variants=variants,
                holdout_share=holdout,
                attribution_days=window_days,
                starts_at=starts_at,
                per_minute=per_minute,
            )
            return await c.campaigns.create(
                slug, draft_, created_by=actor or default_actor(), submit=not draft
            )

    created = run(go())
    from kindbot.cli.guard import print_plan

    for variant_plan in created.plans:
        out.print(f"variant {variant_plan.variant}:", highlight=False)
        print_plan(variant_plan.plan, created.names)
    _print_campaign(created.campaign)


@campaign_app.command("list")
def list_command(tenant: TenantOpt = None, as_json: JsonOpt = False) -> None:
    """The tenant's campaigns, newest first."""

    async def go() -> list[CampaignRecord]:
        async with open_app(settings_from_env()) as c:
            return await c.campaigns.list(await _slug(c, tenant))

    records = run(go())
    if as_json:
        print_json([_campaign_json(r) for r in records])
        return
    from rich.table import Table

    table = Table("id", "name", "status", "recipients", "holdout", "created")
    for r in records:
        table.add_row(
            r.id,
            r.name,
            r.status.value,
            str(r.recipients),
            str(r.recipients - r.treatment),
            r.created_at.isoformat(timespec="minutes"),
        )
    out.print(table)


@campaign_app.command("show")
def show(campaign_id: IdArg, tenant: TenantOpt = None, as_json: JsonOpt = False) -> None:
    """One campaign and its recipients per arm and status."""

    async def go() -> tuple[CampaignRecord, list[RecipientCount]]:
        async with open_app(settings_from_env()) as c:
            return await c.campaigns.get(await _slug(c, tenant), campaign_id)

    record, counts = run(go())
    if as_json:
        document = _campaign_json(record)
        document["counts"] = [
            {"arm": n.arm.value, "status": n.status.value, "count": n.count} for n in counts
        ]
        print_json(document)
        return
    _print_campaign(record)
    for count in counts:
        out.print(f"  {count.arm.value:9} {count.status.value:9} {count.count}", highlight=False)


@campaign_app.command("submit")
def submit(campaign_id: IdArg, tenant: TenantOpt = None, actor: ActorOpt = None) -> None:
    """A draft goes to approval (above human_confirm_over) or is scheduled."""

    async def go() -> CampaignRecord:
        async with open_app(settings_from_env()) as c:
            slug = await _slug(c, tenant)
            return await c.campaigns.submit(slug, campaign_id, actor or default_actor())

    _print_campaign(run(go()))


@campaign_app.command("approve")
def approve(campaign_id: IdArg, tenant: TenantOpt = None, actor: ActorOpt = None) -> None:
    """Approve a campaign someone else created; the worker then sends it."""

    async def go() -> CampaignRecord:
        async with open_app(settings_from_env()) as c:
            slug = await _slug(c, tenant)
            return await c.campaigns.approve(slug, campaign_id, actor or default_actor())

    _print_campaign(run(go()))


@campaign_app.command("cancel")
def cancel(campaign_id: IdArg, tenant: TenantOpt = None, actor: ActorOpt = None) -> None:
    """Stop a campaign that has not finished; nothing not yet sent is sent."""

    async def go() -> CampaignRecord:
        async with open_app(settings_from_env()) as c:
            slug = await _slug(c, tenant)
            return await c.campaigns.cancel(slug, campaign_id, actor or default_actor())

    _print_campaign(run(go()))


@campaign_app.command("report")
def report(
    campaign_id: IdArg,
    tenant: TenantOpt = None,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (one row per arm).")] = False,
) -> None:
    """Incremental conversion against the holdout, replies, opt-outs and the flag."""
    if as_json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both", param_hint="--csv")

    async def go() -> CampaignReport:
        from kindbot.ops.campaigns import campaign_report

        async with open_app(settings_from_env()) as c:
            return await campaign_report(c.store, c.clock, await _slug(c, tenant), campaign_id)

    result = run(go())
    from kindbot.analytics.campaign_documents import report_csv, report_document

    if as_csv:
        sys.stdout.write(report_csv(result))
        return
    document = report_document(result)
    if as_json:
        print_json(document)
        return
    _print_report(document)


def _print_report(document: dict[str, object]) -> None:
    from rich.table import Table

    out.print(f"campaign {document['campaign_id']} ({document['status']})", highlight=False)
    table = Table("", "treatment", "holdout")
    treatment, holdout = document["treatment"], document["holdout"]
    assert isinstance(treatment, dict)
    assert isinstance(holdout, dict)
    for key in treatment:
        left, right = treatment[key], holdout[key]
        table.add_row(key, "-" if left is None else str(left), "-" if right is None else str(right))
    out.print(table)
    if document["uplift"] is None:
        out.print("uplift: - (no holdout, or not started)", highlight=False)
    else:
        out.print(
            f"uplift: {document['uplift']} (95 % Wald CI {document['uplift_ci_low']} to "
            f"{document['uplift_ci_high']}); incremental revenue per recipient: "
            f"{document['incremental_revenue_per_recipient']} {document['currency']}",
            highlight=False,
        )
    if document["flagged"]:
        out.print("FLAGGED: the treatment's opt-out rate is above 2 % and the holdout's")
    if not document["window_closed"]:
        out.print("(provisional: an attribution window is still open)", highlight=False)


def _campaign_json(r: CampaignRecord) -> dict[str, object]:
    return {
        "id": r.id,
        "name": r.name,
        "topic": r.topic,
        "status": r.status.value,
        "audience_kind": r.audience_kind.value,
        "audience_name": r.audience_name,
        "variants": [{"name": v.name, "text": v.text, "weight": v.weight} for v in r.variants],
        "holdout_share": r.holdout_share,
        "attribution_days": r.attribution_days,
        "recipients": r.recipients,
        "treatment": r.treatment,
        "holdout": r.recipients - r.treatment,
        "created_by": r.created_by,
        "approved_by": r.approved_by,
        "starts_at": r.starts_at.isoformat() if r.starts_at else None,
        "started_at": r.started_at.isoformat() if r.started_at else None,
        "finished_at": r.finished_at.isoformat() if r.finished_at else None,
    }


def _print_campaign(r: CampaignRecord) -> None:
    out.print(
        f"campaign {r.id} {r.name!r}: {r.status.value}; {r.recipients} contacts "
        f"({r.treatment} treatment, {r.recipients - r.treatment} holdout)",
        highlight=False,
    )
    if r.status.value == "awaiting_approval":
        out.print(
            f"awaits a second person: kindbot campaign approve {r.id} --as NAME", highlight=False
        )
