"""Finding a tenant's contact by the names people use: channel id (bundle) and external id."""

from __future__ import annotations

from kindbot.errors import NotFoundError
from kindbot.records import ChannelRecord, ContactRecord, TenantRecord
from kindbot.types import Transaction


async def tenant_channel(tx: Transaction, tenant: TenantRecord, local_id: str) -> ChannelRecord:
    """The tenant's channel with bundle id ``local_id``; :class:`NotFoundError` otherwise."""
    for channel in await tx.channels.list_for_tenant(tenant.id):
        if channel.local_id == local_id:
            return channel
    raise NotFoundError(
        f"tenant {tenant.slug!r} has no channel {local_id!r}", code="unknown_channel"
    )


async def tenant_contact(
    tx: Transaction, tenant: TenantRecord, channel_local_id: str, external_id: str
) -> ContactRecord:
    """The contact ``external_id`` on the tenant's channel; :class:`NotFoundError` otherwise.

    Contacts come into being when they write (or follow): kindbot never
    creates one for an outbound message.
    """
    channel = await tenant_channel(tx, tenant, channel_local_id)
    contact = await tx.contacts.find(channel.id, external_id)
    if contact is None:
        raise NotFoundError(
            f"no contact {external_id!r} on channel {channel_local_id!r}", code="unknown_contact"
        )
    return contact
