"""``/api/v1/tenants/{slug}/contacts/{channel}/{external_id}``: consents and data rights.

``channel`` is the channel's id within the tenant (``web``, ``oa``); the
contact must exist (contacts come from their own messages; there is no way
to create one here). Grants, withdrawals and erasures are audited with the
caller's ``actor``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.consent import (
    Recorder,
    check_grant,
    grant_consent,
    list_consents,
    withdraw_consent,
)
from kindbot.ops.contacts import ContactRef, check_ref
from kindbot.ops.rights import erase_contact, export_contact
from kindbot.web.api.auth import CurrentPrincipal, Principal, TenantAccess
from kindbot.web.api.models import (
    ERRORS,
    ConsentGranted,
    ConsentIn,
    ConsentList,
    ConsentOut,
    ErasureOut,
    WithdrawOut,
)
from kindbot.web.deps import container_of

router = APIRouter(tags=["contacts"], responses=ERRORS)

CONTACT = "/tenants/{slug}/contacts/{channel}/{external_id}"


def _recorder(principal: CurrentPrincipal) -> Recorder:
    return Recorder("api", principal.actor)


@router.post(CONTACT + "/consents", status_code=status.HTTP_201_CREATED)
async def grant(
    channel: str,
    external_id: str,
    body: ConsentIn,
    tenant: TenantAccess,
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
) -> ConsentGranted:
    """Record the contact's consent to a topic with the exact wording they agreed to.

    201 when recorded (audited); 200 with ``created: false`` when the same
    consent is already active. 400 ``missing_wording``/``invalid_topic``.
    """
    container = container_of(request)
    recorder = _recorder(principal)
    checked = check_grant(body.topic, body.wording, body.source, recorder)
    granted = await grant_consent(
        container.store,
        tenant,
        check_ref(channel, external_id),
        checked,
        recorder,
        container.clock.now(),
    )
    if not granted.created:
        response.status_code = status.HTTP_200_OK
    return ConsentGranted(consent=ConsentOut.from_record(granted.consent), created=granted.created)


@router.get(CONTACT + "/consents")
async def consents(
    channel: str, external_id: str, tenant: TenantAccess, request: Request
) -> ConsentList:
    """Every consent record of the contact (active and withdrawn), oldest first."""
    _contact, records = await list_consents(
        container_of(request).store, tenant, check_ref(channel, external_id)
    )
    return ConsentList(consents=[ConsentOut.from_record(c) for c in records])


@router.delete(CONTACT + "/consents/{topic}")
async def withdraw(
    channel: str,
    external_id: str,
    topic: str,
    tenant: TenantAccess,
    principal: CurrentPrincipal,
    request: Request,
) -> WithdrawOut:
    """Withdraw the contact's consent to ``topic`` (audited when something changed)."""
    return await _withdraw(request, tenant, principal, check_ref(channel, external_id), topic)


@router.delete(CONTACT + "/consents")
async def withdraw_all(
    channel: str,
    external_id: str,
    tenant: TenantAccess,
    principal: CurrentPrincipal,
    request: Request,
) -> WithdrawOut:
    """Withdraw every active consent of the contact (audited when something changed)."""
    return await _withdraw(request, tenant, principal, check_ref(channel, external_id), None)


async def _withdraw(
    request: Request,
    tenant: TenantRecord,
    principal: Principal,
    ref: ContactRef,
    topic: str | None,
) -> WithdrawOut:
    container = container_of(request)
    count = await withdraw_consent(
        container.store, tenant, ref, topic, _recorder(principal), container.clock.now()
    )
    return WithdrawOut(withdrawn=count)


@router.get(CONTACT + "/export")
async def export(
    channel: str, external_id: str, tenant: TenantAccess, request: Request
) -> dict[str, Any]:
    """One JSON document with everything kindbot stores about the contact.

    Keys: ``format``, ``exported_at``, ``tenant``, ``channel``, ``contact``,
    ``conversations``, ``messages``, ``consents``, ``tags``, ``deferred_sends``,
    ``outbox``, ``flow_states``, ``business_events``, ``conversation_notes``,
    ``attributes``, ``audit_entries`` (the entries naming the contact or its messages).
    """
    container = container_of(request)
    return await export_contact(
        container.store, tenant, check_ref(channel, external_id), container.clock.now()
    )


@router.delete(CONTACT)
async def erase(
    channel: str,
    external_id: str,
    tenant: TenantAccess,
    principal: CurrentPrincipal,
    request: Request,
) -> ErasureOut:
    """Erase the contact's personal data in one transaction; audited without personal data.

    Deletes the contact, its conversations, messages, consents, tags,
    deferred sends, outbox rows, business events and attribute values (each
    counted), and its handoffs, notes and flow states. The audit chain is kept (it holds ids,
    not text) and gains an ``erasure`` entry with the counts.
    """
    container = container_of(request)
    erasure = await erase_contact(
        container.store,
        tenant,
        check_ref(channel, external_id),
        _recorder(principal),
        container.clock.now(),
    )
    return ErasureOut(erased=True, counts=erasure.counts.as_dict(), audit_seq=erasure.entry.seq)
