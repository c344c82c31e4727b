"""``kindbot guard``: plan a send to many, explain one decision, show the tenant's standing.

The guard decides every send; these commands ask it without sending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kindbot.cli.common import open_app, out, pick_tenant, print_json, run
from kindbot.cli.send_options import (
    ChannelOpt,
    JsonOpt,
    TenantOpt,
    TextOpt,
    TopicOpt,
    UserOpt,
    contact_named,
    settings_from_env,
)
from kindbot.core.events import OutboundDecision, SendKind
from kindbot.guard.planning import Plan
from kindbot.guard.violations import SCORE_WINDOW, Standing

if TYPE_CHECKING:
    from kindbot.campaigns.planner import AudienceFacts

guard_app = typer.Typer(
    rich_markup_mode=None, help="Ask the guard: plan a send to many, explain one decision."
)


@guard_app.command("plan")
def plan_command(
    topic: TopicOpt,
    text: TextOpt,
    tag: Annotated[str, typer.Option("--tag", help="Plan for the contacts with this tag.")],
    tenant: TenantOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """How many of a tag's contacts the guard would let TEXT reach, and why not the rest."""

    from kindbot.campaigns.planner import Audience

    async def go() -> AudienceFacts:
        async with open_app(settings_from_env()) as c:
            async with c.store.transaction(readonly=True) as tx:
                slug = (await pick_tenant(tx, tenant)).slug
            return await c.planner.plan(slug, Audience(tag=tag), topic=topic, text=text)

    facts = run(go())
    names = {r.contact_id: r.external_id for r in facts.recipients}
    if as_json:
        print_json(plan_json(facts.plan, names))
        return
    print_plan(facts.plan, names)


def plan_json(plan: Plan, names: dict[str, str]) -> dict[str, object]:
    """A plan as a JSON-ready value (samples named by their external ids)."""
    return {
        "total": plan.total,
        "allowed": plan.allowed,
        "deferred": plan.deferred,
        "denied": plan.denied,
        "lines": [
            {
                "decision": line.decision.value,
                "rule": line.rule,
                "count": line.count,
                "reason_en": line.reason_en,
                "reason_zh": line.reason_zh,
                "samples": [names.get(s, s) for s in line.samples],
            }
            for line in plan.lines
        ],
    }


def print_plan(plan: Plan, names: dict[str, str]) -> None:
    """The plan as a sentence and a table, for people."""
    out.print(
        f"of {plan.total} contacts {plan.allowed} may receive this now, "
        f"{plan.deferred} later, {plan.denied} not at all",
        highlight=False,
    )
    table = Table("decision", "rule", "contacts", "why", "for example")
    for line in plan.lines:
        samples = ", ".join(names.get(s, s) for s in line.samples)
        table.add_row(line.decision.value, line.rule, str(line.count), line.reason_en, samples)
    out.print(table)


@guard_app.command("explain")
def explain_command(
    channel: ChannelOpt,
    user: UserOpt,
    kind: Annotated[
        SendKind, typer.Option("--kind", help="reply (answering the contact) or proactive.")
    ] = SendKind.REPLY,
    topic: Annotated[str, typer.Option("--topic", help="Topic of a proactive send.")] = "",
    text: Annotated[str, typer.Option("--text", help="The message to judge.")] = "……",
    tenant: TenantOpt = None,
) -> None:
    """Every rule's view of sending TEXT to a contact now; sends nothing."""

    from kindbot.campaigns.proactive import ProactiveRequest

    async def go() -> OutboundDecision:
        async with open_app(settings_from_env()) as c:
            contact = await contact_named(c, tenant, channel, user)
            request = ProactiveRequest(contact.tenant_id, contact.id, topic, text)
            return await c.proactive.explain(request, kind=kind)

    decision = run(go())
    verdict = decision.verdict
    out.print(f"{verdict.decision.value} ({verdict.rule}): {verdict.reason_en}", highlight=False)
    table = Table("rule", "decision", "why", "what would change it")
    for check in decision.checks:
        table.add_row(check.rule, check.decision.value, check.reason_en, check.remedy_en)
    out.print(table)


@guard_app.command("standing")
def standing_command(tenant: TenantOpt = None) -> None:
    """The tenant's standing (ok, warning, throttled, suspended) and violation score."""

    async def go() -> tuple[str, str, int]:
        async with open_app(settings_from_env()) as c:
            async with c.store.transaction(readonly=True) as tx:
                record = await pick_tenant(tx, tenant)
                since = c.clock.now() - SCORE_WINDOW
                score = await tx.violations.score(record.id, since)
            return record.slug, record.standing, score

    slug, standing, score = run(go())
    out.print(
        f"tenant {slug}: standing {Standing(standing).value}, "
        f"violation score {score} over the last {SCORE_WINDOW.days} days",
        highlight=False,
    )
