"""Finding a tenant's contact by channel and external id; the tenant's test contacts.

Contacts are addressed as a person names them: the channel's id within the
tenant (``web``, ``oa``, ``console``) and the contact's id on that channel
(an OpenID, a web chat visitor id, a webhook ``user``). There is no way to
create ordinary contacts here: contacts come from their own messages. Only
test contacts (whom a pending tenant may already message) are marked, one at
a time and up to :data:`MAX_TEST_CONTACTS` per tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kindbot.bundles.apply import public_channel_id
from kindbot.core.errors import BadRequestError, KindbotError, NotFoundError
from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.conversations import ContactRecord
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord

MAX_EXTERNAL_ID = 200
MAX_TEST_CONTACTS = 50


class TooManyTestContactsError(KindbotError):
    """The tenant already has as many test contacts as allowed."""

    code = "too_many_test_contacts"
    http_status = 409


@dataclass(frozen=True, slots=True)
class ContactRef:
    """A contact's address as given by a person: channel id (within the tenant), external id."""

    channel: str
    external_id: str


def check_ref(channel: str, external_id: str) -> ContactRef:
    """Validate an address; the error names the field (``channel``, ``external_id``)."""
    channel, external_id = channel.strip(), external_id.strip()
    if not channel:
        raise BadRequestError("channel: a channel id is required", code="invalid_channel")
    if not external_id:
        raise BadRequestError("external_id: the contact's id is required", code="invalid_user")
    if len(external_id) > MAX_EXTERNAL_ID:
        raise BadRequestError(
            f"external_id: at most {MAX_EXTERNAL_ID} characters", code="invalid_user"
        )
    return ContactRef(channel, external_id)


async def find_channel(tx: Transaction, tenant: TenantRecord, channel: str) -> ChannelRecord:
    """The tenant's channel with this local id, or :class:`NotFoundError` ``unknown_channel``."""
    found = await tx.channels.get_by_public_id(public_channel_id(tenant.slug, channel))
    if found is None or found.tenant_id != tenant.id:
        raise NotFoundError(
            f"tenant {tenant.slug!r} has no channel {channel!r}", code="unknown_channel"
        )
    return found


async def find_contact(
    tx: Transaction, tenant: TenantRecord, ref: ContactRef
) -> tuple[ChannelRecord, ContactRecord]:
    """The channel and the contact at ``ref``, or :class:`NotFoundError` (``unknown_channel``,
    ``unknown_contact``)."""
    channel = await find_channel(tx, tenant, ref.channel)
    contact = await tx.contacts.find(channel.id, ref.external_id)
    if contact is None or contact.tenant_id != tenant.id:
        raise NotFoundError(
            f"no contact {ref.external_id!r} on channel {ref.channel!r}", code="unknown_contact"
        )
    return channel, contact


@dataclass(frozen=True, slots=True)
class TestContact:
    """A test contact with the channel it is on."""

    __test__ = False  # not a pytest test class, despite the name

    channel: str
    contact: ContactRecord


async def add_test_contact(
    store: Store, tenant: TenantRecord, ref: ContactRef, now: datetime
) -> tuple[TestContact, bool]:
    """Mark (channel, external id) a test contact, creating the contact; True when it changed.

    Raises :class:`TooManyTestContactsError` past :data:`MAX_TEST_CONTACTS`.
    """
    async with store.transaction() as tx:
        channel = await find_channel(tx, tenant, ref.channel)
        existing = await tx.contacts.list_test(tenant.id)
        already = any(
            c.channel_id == channel.id and c.external_id == ref.external_id for c in existing
        )
        if not already and len(existing) >= MAX_TEST_CONTACTS:
            raise TooManyTestContactsError(
                f"tenant {tenant.slug!r} already has {MAX_TEST_CONTACTS} test contacts"
            )
        contact, changed = await tx.contacts.mark_test(
            tenant_id=tenant.id, channel_id=channel.id, external_id=ref.external_id, now=now
        )
    return TestContact(ref.channel, contact), changed


async def list_test_contacts(store: Store, tenant: TenantRecord) -> list[TestContact]:
    """The tenant's test contacts with their channels' local ids."""
    async with store.transaction(readonly=True) as tx:
        channels = {c.id: c.local_id for c in await tx.channels.list_for_tenant(tenant.id)}
        contacts = await tx.contacts.list_test(tenant.id)
    return [TestContact(channels.get(c.channel_id, c.channel_id), c) for c in contacts]
