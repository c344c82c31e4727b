"""The consent ledger from the operator's side: record a contact's opt-in, withdraw, list.

Consent is recorded only as given by the contact: the exact wording they
agreed to is required, a contact who opted out by message cannot be opted
back in by an operator, and ``source`` says who recorded it through which
edge (``api:key:kbk_…``, ``cli:alice``), plus how the contact gave it when
the caller says so. A grant for a contact who already holds the same active
consent with the same wording changes nothing; a new wording supersedes the
old consent. Every change writes an audit entry (ids, topic, actor and the
wording's SHA-256 — never personal text) in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime

from kindbot.bundles.tenants import append_audit
from kindbot.core.errors import BadRequestError, ConflictError
from kindbot.core.ports.seams import Store
from kindbot.core.records.consent import ConsentRecord
from kindbot.core.records.conversations import ContactRecord
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord
from kindbot.guard.audit import AuditDraft
from kindbot.ops.contacts import ContactRef, find_contact

TOPIC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
MAX_WORDING = 2000
MAX_EVIDENCE = 120
MAX_SOURCE = 200
AUDIT_KIND = "consent"


@dataclass(frozen=True, slots=True)
class Recorder:
    """Who records a consent change and through which edge (``api`` or ``cli``)."""

    via: str
    actor: str

    @property
    def source(self) -> str:
        """``via:actor`` as stored in the consent's ``source``."""
        return f"{self.via}:{self.actor}"


@dataclass(frozen=True, slots=True)
class GrantRequest:
    """A validated grant: topic, the exact wording agreed to, and the full ``source``."""

    topic: str
    wording: str
    source: str


def check_topic(topic: str) -> str:
    """A topic name (letters, digits, ``_ . : -``; at most 64); the error names ``topic``."""
    topic = topic.strip()
    if not TOPIC.fullmatch(topic):
        raise BadRequestError(
            f"topic: {topic!r} is not a topic name (1-64 letters, digits, '_', '.', ':', '-')",
            code="invalid_topic",
        )
    return topic


def check_grant(
    topic: str, wording: str | None, evidence: str | None, recorder: Recorder
) -> GrantRequest:
    """Validate a grant; raises :class:`BadRequestError` naming the field at fault."""
    checked_topic = check_topic(topic)
    text = (wording or "").strip()
    if not text:
        raise BadRequestError(
            "wording: the exact wording the contact agreed to is required",
            code="missing_wording",
        )
    if len(text) > MAX_WORDING:
        raise BadRequestError(f"wording: at most {MAX_WORDING} characters", code="invalid_wording")
    note = " ".join((evidence or "").split())
    if len(note) > MAX_EVIDENCE:
        raise BadRequestError(f"source: at most {MAX_EVIDENCE} characters", code="invalid_source")
    source = recorder.source + (f" ({note})" if note else "")
    if len(source) > MAX_SOURCE:
        raise BadRequestError(f"source: at most {MAX_SOURCE} characters", code="invalid_source")
    return GrantRequest(checked_topic, text, source)


def _draft(
    contact: ContactRecord,
    channel: ChannelRecord,
    decision: str,
    recorder: Recorder,
    at: datetime,
    **facts: str | int,
) -> AuditDraft:
    detail = {"actor": recorder.actor, "via": recorder.via, "channel": channel.local_id, **facts}
    return AuditDraft(
        tenant_id=contact.tenant_id,
        at=at,
        kind=AUDIT_KIND,
        subject=f"contact:{contact.id}",
        rule=AUDIT_KIND,
        decision=decision,
        detail=json.dumps(detail, ensure_ascii=False),
    )


@dataclass(frozen=True, slots=True)
class Granted:
    """The consent now active, and whether this call recorded it (False: already held)."""

    consent: ConsentRecord
    created: bool


async def grant_consent(
    store: Store,
    tenant: TenantRecord,
    ref: ContactRef,
    request: GrantRequest,
    recorder: Recorder,
    now: datetime,
) -> Granted:
    """Record the contact's consent to ``request.topic`` (audited), in one transaction.

    The contact must exist (contacts come from their own messages). A contact
    who opted out by message (STOP, 退订) can only opt in again by message
    (the opt-in keyword): an operator's grant is refused with
    :class:`ConflictError` ``contact_opted_out`` — nobody overrides a stop.
    """
    async with store.transaction() as tx:
        channel, contact = await find_contact(tx, tenant, ref)
        if contact.opted_out_at is not None:
            raise ConflictError(
                f"the contact opted out by message at {contact.opted_out_at.isoformat()}; only "
                "the contact can opt in again (by sending the opt-in keyword)",
                code="contact_opted_out",
            )
        held = await tx.consents.active_for(contact.id, channel.id, request.topic)
        if held is not None and held.wording == request.wording:
            return Granted(held, created=False)
        superseded = await tx.consents.withdraw(contact.id, request.topic, now)
        consent = await tx.consents.grant(
            tenant_id=tenant.id,
            contact_id=contact.id,
            channel_id=channel.id,
            topic=request.topic,
            source=request.source,
            wording=request.wording,
            now=now,
        )
        wording_hash = hashlib.sha256(request.wording.encode("utf-8")).hexdigest()
        draft = _draft(
            contact,
            channel,
            "grant",
            recorder,
            now,
            topic=request.topic,
            consent_id=consent.id,
            wording_sha256=wording_hash,
            superseded=superseded,
        )
        await append_audit(tx, draft)
    return Granted(consent, created=True)


async def withdraw_consent(
    store: Store,
    tenant: TenantRecord,
    ref: ContactRef,
    topic: str | None,
    recorder: Recorder,
    now: datetime,
) -> int:
    """Withdraw the contact's active consent to ``topic`` (every topic when None).

    Returns how many consents were withdrawn; a change is audited, nothing
    to withdraw changes nothing.
    """
    checked = check_topic(topic) if topic is not None else None
    async with store.transaction() as tx:
        channel, contact = await find_contact(tx, tenant, ref)
        if checked is None:
            count = await tx.consents.withdraw_all(contact.id, now)
        else:
            count = await tx.consents.withdraw(contact.id, checked, now)
        if count:
            draft = _draft(
                contact, channel, "withdraw", recorder, now, topic=checked or "*", withdrawn=count
            )
            await append_audit(tx, draft)
    return count


async def list_consents(
    store: Store, tenant: TenantRecord, ref: ContactRef
) -> tuple[ContactRecord, list[ConsentRecord]]:
    """The contact and every consent record of it (active and withdrawn), oldest first."""
    async with store.transaction(readonly=True) as tx:
        _channel, contact = await find_contact(tx, tenant, ref)
        return contact, await tx.consents.for_contact(contact.id)
