"""Options shared by ``kindbot consent`` and ``kindbot contact``: which tenant and contact."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kindbot.cli.common import fail, pick_tenant
from kindbot.core.ports.seams import Store
from kindbot.core.records.tenancy import TenantRecord

if TYPE_CHECKING:
    from kindbot.ops.contacts import ContactRef

TenantOption = Annotated[
    str | None, typer.Option("--tenant", "-t", help="The tenant's slug (optional with one tenant).")
]
ChannelOption = Annotated[
    str | None, typer.Option("--channel", "-c", help="The channel's id in the tenant (e.g. web).")
]
UserOption = Annotated[
    str | None,
    typer.Option("--user", "-u", help="The contact's id on that channel (EXTERNAL_ID)."),
]


def contact_ref(channel: str | None, user: str | None) -> ContactRef:
    """The contact's address, or a clear exit naming the missing option."""
    from kindbot.ops.contacts import check_ref

    if channel is None or not channel.strip():
        fail("--channel is required: the channel's id within the tenant (e.g. web)")
    if user is None or not user.strip():
        fail("--user is required: the contact's id on that channel (EXTERNAL_ID)")
    return check_ref(channel, user)


async def load_tenant(store: Store, slug: str | None) -> TenantRecord:
    """The tenant named by ``--tenant`` (or the only one)."""
    async with store.transaction(readonly=True) as tx:
        return await pick_tenant(tx, slug)
