"""``kindbot send``, ``kindbot broadcast`` and ``kindbot tag``: proactive sends and their audiences.

Every send made here goes through the guard per recipient, exactly like a
bot reply: these commands compose the campaign services and print what the
guard decided.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kindbot.bundles.tenants import default_actor
from kindbot.cli.common import open_app, out, pick_tenant, print_json, run
from kindbot.cli.guard import print_plan
from kindbot.cli.send_options import (
    ActorOpt,
    ChannelOpt,
    JsonOpt,
    TenantOpt,
    TextOpt,
    TopicOpt,
    UserOpt,
    contact_named,
    settings_from_env,
)
from kindbot.core.records.campaigns import BroadcastRecord, BroadcastStatus

if TYPE_CHECKING:
    from kindbot.bootstrap import Container
    from kindbot.campaigns.broadcasts import BroadcastStarted, BroadcastTally
    from kindbot.campaigns.proactive import ProactiveOutcome

broadcast_app = typer.Typer(
    rich_markup_mode=None, help="Broadcasts: one message for a topic to a tag's contacts."
)
tag_app = typer.Typer(rich_markup_mode=None, help="Tags on contacts (a broadcast addresses a tag).")


def send(
    channel: ChannelOpt,
    user: UserOpt,
    topic: TopicOpt,
    text: TextOpt,
    tenant: TenantOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Send a proactive message for TOPIC to one contact, if the guard allows it."""

    from kindbot.campaigns.proactive import ProactiveRequest

    async def go() -> ProactiveOutcome:
        async with open_app(settings_from_env()) as c:
            contact = await contact_named(c, tenant, channel, user)
            outcome = await c.proactive.send(
                ProactiveRequest(contact.tenant_id, contact.id, topic, text)
            )
            if outcome.message_id is not None:
                await _deliver_due(c)
            return outcome

    outcome = run(go())
    verdict = outcome.verdict
    if as_json:
        payload = {
            "decision": verdict.decision.value,
            "rule": verdict.rule,
            "reason_en": verdict.reason_en,
            "reason_zh": verdict.reason_zh,
            "retry_at": verdict.retry_at.isoformat() if verdict.retry_at else None,
            "message_id": outcome.message_id,
            "deferred_id": outcome.deferred_id,
        }
        print_json(payload)
    else:
        out.print(
            f"{verdict.decision.value} ({verdict.rule}): {verdict.reason_en}", highlight=False
        )
        if verdict.retry_at is not None:
            out.print(f"stored; decided again at {verdict.retry_at.isoformat()}", highlight=False)
    if not verdict.allowed:
        raise typer.Exit(2 if verdict.decision.value == "deny" else 0)


@broadcast_app.command("create")
def broadcast_create(
    tag: Annotated[str, typer.Option("--tag", help="Send to the contacts with this tag.")],
    topic: TopicOpt,
    text: TextOpt,
    tenant: TenantOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Plan and send a broadcast; a big one waits for a second person's approval."""

    async def go() -> tuple[BroadcastStarted, BroadcastTally | None]:
        async with open_app(settings_from_env()) as c:
            async with c.store.transaction(readonly=True) as tx:
                slug = (await pick_tenant(tx, tenant)).slug
            started = await c.broadcasts.create(
                slug, tag=tag, topic=topic, text=text, created_by=actor or default_actor()
            )
            if started.broadcast.status is BroadcastStatus.AWAITING_APPROVAL:
                return started, None
            return started, await _deliver(c, started.broadcast)

    started, tally = run(go())
    print_plan(started.plan, started.names)
    record = started.broadcast
    if tally is None:
        out.print(
            f"broadcast {record.id} to {record.recipients} contacts awaits a second person: "
            f"kindbot broadcast approve {record.id} --as NAME",
            highlight=False,
        )
        return
    _print_tally(record, tally)


@broadcast_app.command("approve")
def broadcast_approve(
    broadcast_id: Annotated[str, typer.Argument(help="The broadcast's id.")],
    actor: ActorOpt = None,
) -> None:
    """Approve a broadcast someone else created, then send it."""

    async def go() -> tuple[BroadcastRecord, BroadcastTally]:
        async with open_app(settings_from_env()) as c:
            record = await c.broadcasts.approve(broadcast_id, actor or default_actor())
            return record, await _deliver(c, record)

    record, tally = run(go())
    _print_tally(record, tally)


async def _deliver(c: Container, record: BroadcastRecord) -> BroadcastTally:
    from rich.progress import Progress

    with Progress(console=out, transient=True) as progress:
        task = progress.add_task("sending", total=record.recipients)
        tally = await c.broadcasts.deliver(
            record.id, progress=lambda done, total: progress.update(task, completed=done)
        )
    await _deliver_due(c)
    return tally


async def _deliver_due(c: Container) -> None:
    """Attempt what is due in the outbox once (failures stay queued for ``kindbot serve``)."""
    while await c.outbox_worker.run_once():
        pass


def _print_tally(record: BroadcastRecord, tally: BroadcastTally) -> None:
    out.print(
        f"broadcast {record.id}: {tally.allowed} sent, {tally.deferred} deferred, "
        f"{tally.denied} refused by the guard (of {tally.attempted} attempted)",
        highlight=False,
    )


@tag_app.command("add")
def tag_add(
    tag: Annotated[str, typer.Argument(help="The tag.")],
    channel: ChannelOpt,
    users: Annotated[list[str], typer.Option("--user", "-u", help="A contact id (repeatable).")],
    tenant: TenantOpt = None,
) -> None:
    """Tag existing contacts (contacts are never created here)."""
    _retag(tag, channel, users, tenant, add=True)


@tag_app.command("remove")
def tag_remove(
    tag: Annotated[str, typer.Argument(help="The tag.")],
    channel: ChannelOpt,
    users: Annotated[list[str], typer.Option("--user", "-u", help="A contact id (repeatable).")],
    tenant: TenantOpt = None,
) -> None:
    """Take a tag off contacts."""
    _retag(tag, channel, users, tenant, add=False)


def _retag(tag: str, channel: str, users: list[str], tenant: str | None, *, add: bool) -> None:
    if not tag.strip():
        raise typer.BadParameter("the tag must not be empty", param_hint="TAG")

    from kindbot.ops.contacts import check_ref, find_contact

    async def go() -> int:
        async with (
            open_app(settings_from_env()) as c,
            c.store.transaction() as tx,
        ):
            record = await pick_tenant(tx, tenant)
            changed = 0
            for user in users:  # all or nothing: one unknown user rolls back the rest
                contact = (await find_contact(tx, record, check_ref(channel, user)))[1]
                if add:
                    changed += await tx.tags.add(record.id, contact.id, tag)
                else:
                    changed += await tx.tags.remove(contact.id, tag)
            return changed

    changed = run(go())
    out.print(f"{'tagged' if add else 'untagged'} {changed} contact(s)", highlight=False)
