"""Options and lookups shared by the commands that plan or make sends (guard, send, broadcast)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kindbot.cli.common import pick_tenant
from kindbot.core.records.conversations import ContactRecord
from kindbot.settings import Settings

if TYPE_CHECKING:
    from kindbot.bootstrap import Container

TenantOpt = Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant slug.")]
ChannelOpt = Annotated[str, typer.Option("--channel", "-c", help="Channel id from the bundle.")]
UserOpt = Annotated[str, typer.Option("--user", "-u", help="The contact's id on the channel.")]
TopicOpt = Annotated[str, typer.Option("--topic", help="The topic the contact subscribed to.")]
TextOpt = Annotated[str, typer.Option("--text", help="The message text.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ActorOpt = Annotated[
    str | None, typer.Option("--as", help="Who does this (default: the OS user), for the audit.")
]


def settings_from_env() -> Settings:
    """The process settings (read at each command, so tests can set the environment)."""
    return Settings.from_env()


async def contact_named(c: Container, tenant: str | None, channel: str, user: str) -> ContactRecord:
    """The contact ``user`` on ``channel`` of the tenant (or the only tenant)."""
    from kindbot.ops.contacts import check_ref, find_contact

    async with c.store.transaction(readonly=True) as tx:
        record = await pick_tenant(tx, tenant)
        return (await find_contact(tx, record, check_ref(channel, user)))[1]
