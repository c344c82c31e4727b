"""Reads many recipients' facts in bulk and asks :func:`kindbot.guard.planning.plan`.

One read transaction for the contacts and their consents, one counter read
for every recipient's daily and monthly counts: planning 100,000 contacts is
a handful of queries, not 100,000 decisions' worth of round trips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kindbot.errors import NotFoundError
from kindbot.guard.counting import proactive_keys
from kindbot.guard.facts import BroadcastFacts, WindowFacts
from kindbot.guard.planning import Plan, PlannedSend, RecipientFacts, plan
from kindbot.pipeline.admission import Admission, tenant_policy_of
from kindbot.pipeline.facts import window_policy
from kindbot.records import PlanContact, TenantRecord
from kindbot.screening import SCREENED_OK, ContentContext, Direction
from kindbot.types import Clock, SendCounters, Store


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a proactive send is for: the contacts with ``tag``, or listed contact ids."""

    tag: str | None = None
    contact_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AudienceFacts:
    """A tenant, the recipients' facts in order, and the plan over them."""

    tenant: TenantRecord
    recipients: tuple[RecipientFacts, ...]
    plan: Plan


class Planner:
    """Plans proactive sends over many recipients (reads only; writes nothing)."""

    def __init__(
        self, *, store: Store, clock: Clock, counters: SendCounters, admission: Admission
    ) -> None:
        self._store = store
        self._clock = clock
        self._counters = counters
        self._admission = admission

    async def plan(
        self,
        tenant_slug: str,
        audience: Audience,
        *,
        topic: str,
        text: str,
        broadcast: BroadcastFacts | None = None,
    ) -> AudienceFacts:
        """What the guard would decide for each recipient of ``text`` on ``topic`` now.

        Raises :class:`NotFoundError` for an unknown tenant. Contacts of the
        audience that do not exist (or belong to another tenant) are left out.
        """
        tenant, contacts, holders = await self._read(tenant_slug, audience, topic)
        now = self._clock.now()
        policy = tenant_policy_of(tenant)
        keys = [
            proactive_keys(
                tenant_id=tenant.id,
                contact_id=contact.contact_id,
                channel_id=contact.channel_id,
                timezone=policy.timezone,
                now=now,
            )
            for contact in contacts
        ]
        wanted = [key for pair in keys for key in (pair.contact_day, pair.contact_month)]
        tenant_key = keys[0].tenant_day if keys else ""
        counts = await self._counters.peek([*wanted, tenant_key] if keys else [])
        recipients = tuple(
            RecipientFacts(
                contact_id=contact.contact_id,
                channel_id=contact.channel_id,
                channel_kind=contact.channel_kind,
                is_test=contact.is_test,
                followed=contact.followed,
                window=_window(contact),
                consent_wording=holders.get((contact.contact_id, contact.channel_id)),
                sent_today=counts[2 * index],
                sent_this_month=counts[2 * index + 1],
                external_id=contact.external_id,
            )
            for index, contact in enumerate(contacts)
        )
        screener = await self._admission.screener()
        content = SCREENED_OK
        if screener is not None:
            context = ContentContext(Direction.OUTBOUND, proactive=True, tenant_id=tenant.id)
            content = screener.screen(text, context)
        send = PlannedSend(
            tenant_id=tenant.id,
            tenant_status=tenant.status,
            policy=policy,
            topic=topic,
            text=text,
            prefer_chinese=tenant.language.startswith("zh"),
            tenant_sent_today=counts[-1] if keys else 0,
            content=content,
            broadcast=broadcast,
        )
        return AudienceFacts(tenant, recipients, plan(send, recipients, now))

    async def _read(
        self, tenant_slug: str, audience: Audience, topic: str
    ) -> tuple[TenantRecord, list[PlanContact], dict[tuple[str, str], str]]:
        async with self._store.transaction(readonly=True) as tx:
            tenant = await tx.tenants.get_by_slug(tenant_slug)
            if tenant is None:
                raise NotFoundError(f"no tenant {tenant_slug!r}", code="unknown_tenant")
            ids: Sequence[str] = audience.contact_ids
            if audience.tag is not None:
                ids = await tx.tags.contacts_with(tenant.id, audience.tag)
            contacts = await tx.planning.plan_contacts(tenant.id, ids)
            holders = await tx.consents.holders(tenant.id, topic)
        return tenant, contacts, holders


def _window(contact: PlanContact) -> WindowFacts | None:
    """The contact's window as far as bulk facts know it (no count inside the window).

    The count of messages already sent inside the window is not read in
    bulk; the real send reads it and may still be refused by the window quota.
    """
    policy = window_policy(contact.channel_kind, contact.external_id)
    if policy is None:
        return None
    return WindowFacts(policy, contact.last_inbound_at, False, 0)
