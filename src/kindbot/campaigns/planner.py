"""Reads many recipients' facts in bulk and asks :func:`kindbot.guard.planning.plan`.

One read transaction for the contacts and their consents, one counter read
for every recipient's daily and monthly counts: planning 100,000 contacts is
a handful of queries, not 100,000 decisions' worth of round trips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kindbot.channels.config import ChannelConfig
from kindbot.channels.registry import open_config
from kindbot.core.errors import NotFoundError
from kindbot.core.events import Verdict
from kindbot.core.ports.seams import Clock, SendCounters, Store
from kindbot.core.records.campaigns import PlanContact
from kindbot.core.records.tenancy import TenantRecord
from kindbot.core.screening import SCREENED_OK, ContentContext, Direction
from kindbot.guard.counting import contact_keys, periods, tenant_key
from kindbot.guard.facts import BroadcastFacts, WindowFacts
from kindbot.guard.planning import Plan, PlannedSend, RecipientFacts, decisions, plan
from kindbot.pipeline.admit.admission import Admission, tenant_policy_of
from kindbot.pipeline.directory import ChannelDirectory


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a proactive send is for: the contacts with ``tag``, or listed contact ids.

    A segment is resolved to its contact ids before planning (see
    :class:`kindbot.campaigns.audiences.AudienceSpec`), so planning only ever
    sees a tag or ids.
    """

    tag: str | None = None
    contact_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AudienceFacts:
    """A tenant, the recipients' facts in order, and the plan over them."""

    tenant: TenantRecord
    recipients: tuple[RecipientFacts, ...]
    plan: Plan


@dataclass(frozen=True, slots=True)
class _Prepared:
    tenant: TenantRecord
    recipients: tuple[RecipientFacts, ...]
    send: PlannedSend
    now: datetime


class Planner:
    """Plans proactive sends over many recipients (reads only; writes nothing)."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        directory: ChannelDirectory,
        counters: SendCounters,
        admission: Admission,
    ) -> None:
        self._store = store
        self._directory = directory
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
        prepared = await self._prepare(tenant_slug, audience, topic, text, broadcast)
        plan_ = plan(prepared.send, prepared.recipients, prepared.now)
        return AudienceFacts(prepared.tenant, prepared.recipients, plan_)

    async def verdicts(
        self,
        tenant_slug: str,
        audience: Audience,
        *,
        topic: str,
        text: str,
        broadcast: BroadcastFacts | None = None,
    ) -> dict[str, Verdict]:
        """The guard's deciding verdict per recipient (by contact id) if sent now; as
        :meth:`plan`, contacts that do not exist are left out."""
        prepared = await self._prepare(tenant_slug, audience, topic, text, broadcast)
        return {
            recipient.contact_id: verdict
            for recipient, verdict in decisions(prepared.send, prepared.recipients, prepared.now)
        }

    async def _prepare(
        self,
        tenant_slug: str,
        audience: Audience,
        topic: str,
        text: str,
        broadcast: BroadcastFacts | None,
    ) -> _Prepared:
        tenant, contacts, holders = await self._read(tenant_slug, audience, topic)
        now = self._clock.now()
        policy = tenant_policy_of(tenant)
        at = periods(now, policy.timezone)
        wanted = [
            key for contact in contacts for key in contact_keys(tenant.id, contact.contact_id, at)
        ]
        counts = await self._counters.peek(wanted)
        (tenant_sent_today,) = await self._counters.peek([tenant_key(tenant.id, at)])
        windows = _Windows(await self._channel_configs(contacts))
        recipients = tuple(
            RecipientFacts(
                contact_id=contact.contact_id,
                channel_id=contact.channel_id,
                channel_kind=contact.channel_kind,
                is_test=contact.is_test,
                followed=contact.followed,
                window=windows.of(contact),
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
            tenant_sent_today=tenant_sent_today,
            content=content,
            broadcast=broadcast,
        )
        return _Prepared(tenant, recipients, send, now)

    async def _channel_configs(self, contacts: Sequence[PlanContact]) -> dict[str, str]:
        """The opened configuration of every channel the contacts are on."""
        configs: dict[str, str] = {}
        for channel_id in {contact.channel_id for contact in contacts}:
            configs[channel_id] = (await self._directory.by_id(channel_id)).config
        return configs

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


class _Windows:
    """Each contact's window as far as bulk facts know it (no count inside the window).

    The count of messages already sent inside the window is not read in
    bulk; the real send reads it and may still be refused by the window
    quota. Each channel's configuration is opened once; its kind then says
    the window per contact (a pure, cheap decision).
    """

    def __init__(self, configs: dict[str, str]) -> None:
        self._configs = configs
        self._opened: dict[str, ChannelConfig] = {}

    def of(self, contact: PlanContact) -> WindowFacts | None:
        """The window facts of ``contact``."""
        config = self._opened.get(contact.channel_id)
        if config is None:
            config = open_config(contact.channel_kind, self._configs[contact.channel_id])
            self._opened[contact.channel_id] = config
        policy = config.window(contact.external_id)
        if policy is None:
            return None
        return WindowFacts(policy, contact.last_inbound_at, False, 0)
