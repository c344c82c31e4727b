"""``kindbot consent``: the consent ledger of one contact — grant, withdraw, list.

A grant records what the contact agreed to: ``--wording`` is the exact text
(required). The stored source is ``cli:<login name>``, followed by
``--source`` when given. Every change is audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kindbot.bundles.tenants import default_actor
from kindbot.cli.common import open_app, out, run
from kindbot.cli.contact_options import (
    ChannelOption,
    TenantOption,
    UserOption,
    contact_ref,
    load_tenant,
)
from kindbot.core.records.consent import ConsentRecord

if TYPE_CHECKING:
    from kindbot.ops.consent import Granted, Recorder

app = typer.Typer(
    rich_markup_mode=None,
    help="A contact's consent to hear about topics (recorded as the contact gave it; audited).",
    no_args_is_help=True,
)


def _recorder() -> Recorder:
    from kindbot.ops.consent import Recorder

    return Recorder("cli", default_actor())


@app.command()
def grant(
    tenant: TenantOption = None,
    channel: ChannelOption = None,
    user: UserOption = None,
    topic: Annotated[str, typer.Option(help="What the contact agreed to hear about.")] = "general",
    wording: Annotated[
        str | None, typer.Option(help="The exact wording the contact agreed to (required).")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="How the contact gave it (e.g. 'signup form').")
    ] = None,
) -> None:
    """Record a contact's consent to TOPIC with the exact wording they agreed to."""
    ref = contact_ref(channel, user)
    recorder = _recorder()

    from kindbot.ops.consent import check_grant, grant_consent

    async def go() -> Granted:
        request = check_grant(topic, wording, source, recorder)
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            return await grant_consent(c.store, found, ref, request, recorder, c.clock.now())

    granted = run(go())
    state = "recorded" if granted.created else "already active (unchanged)"
    out.print(
        f"consent to {granted.consent.topic!r} for {ref.external_id} on {ref.channel}: {state}",
        highlight=False,
    )


@app.command()
def withdraw(
    tenant: TenantOption = None,
    channel: ChannelOption = None,
    user: UserOption = None,
    topic: Annotated[
        str | None, typer.Option(help="Only this topic (default: every topic).")
    ] = None,
) -> None:
    """Withdraw a contact's consent to TOPIC, or to everything."""
    ref = contact_ref(channel, user)

    from kindbot.ops.consent import withdraw_consent

    async def go() -> int:
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            return await withdraw_consent(c.store, found, ref, topic, _recorder(), c.clock.now())

    count = run(go())
    what = f"to {topic!r}" if topic else "(all topics)"
    out.print(f"consent {what} for {ref.external_id}: {count} withdrawn", highlight=False)


@app.command("list")
def list_(
    tenant: TenantOption = None, channel: ChannelOption = None, user: UserOption = None
) -> None:
    """Every consent record of a contact, active and withdrawn."""
    ref = contact_ref(channel, user)

    from kindbot.ops.consent import list_consents

    async def go() -> list[ConsentRecord]:
        async with open_app() as c:
            found = await load_tenant(c.store, tenant)
            return (await list_consents(c.store, found, ref))[1]

    records = run(go())
    if not records:
        out.print(f"{ref.external_id} on {ref.channel}: no consents recorded", highlight=False)
        return
    for r in records:
        when = f"granted {r.granted_at.isoformat(timespec='seconds')}"
        if r.withdrawn_at:
            when += f", withdrawn {r.withdrawn_at.isoformat(timespec='seconds')}"
        out.print(
            f"{r.topic}  {r.status.value}  {when}  source {r.source!r}  wording {r.wording!r}",
            highlight=False,
            soft_wrap=True,
        )
