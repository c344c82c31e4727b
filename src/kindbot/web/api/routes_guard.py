"""The guard over ``/api/v1``: proactive sends, tags, plans, explanations, broadcasts, standing.

Every send made here goes through the guard per recipient exactly like a bot
reply (:class:`kindbot.campaigns.proactive.ProactiveSender`); these routes only
translate HTTP to those services. A proactive send answers 201 when the
message was admitted, 202 when it was deferred (stored and decided again when
due) and 403 ``guard_denied`` when the guard refused it — each with the
verdict.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from kindbot.campaigns.planner import Audience
from kindbot.campaigns.proactive import ProactiveRequest
from kindbot.core.errors import NotFoundError
from kindbot.core.events import Decision
from kindbot.core.records.campaigns import BroadcastRecord, BroadcastStatus
from kindbot.core.records.conversations import ContactRecord
from kindbot.core.records.tenancy import TenantRecord
from kindbot.guard.violations import SCORE_WINDOW
from kindbot.ops.contacts import check_ref, find_contact
from kindbot.web.api.auth import CurrentPrincipal, TenantAccess
from kindbot.web.api.models import ERRORS, ErrorBody
from kindbot.web.api.models_guard import (
    BroadcastCreated,
    BroadcastOut,
    ExplainIn,
    ExplainOut,
    PlanIn,
    PlanOut,
    SendIn,
    SendOut,
    StandingOut,
    Tag,
    TagsOut,
)
from kindbot.web.deps import container_of

router = APIRouter(tags=["guard"], responses=ERRORS)

CONTACT = "/tenants/{slug}/contacts/{channel}/{external_id}"


async def _contact(
    request: Request, tenant: TenantRecord, channel: str, external_id: str
) -> ContactRecord:
    container = container_of(request)
    async with container.store.transaction(readonly=True) as tx:
        return (await find_contact(tx, tenant, check_ref(channel, external_id)))[1]


@router.post(
    CONTACT + "/messages",
    status_code=status.HTTP_201_CREATED,
    responses={202: {"model": SendOut}, 403: {"model": SendOut | ErrorBody}},
)
async def send(
    channel: str,
    external_id: str,
    body: SendIn,
    tenant: TenantAccess,
    request: Request,
    response: Response,
) -> SendOut:
    """Send a proactive message for a topic to one contact, if the guard allows it.

    201: admitted to the outbox; 202: deferred (quiet hours, quota, rate), stored
    and decided again at ``verdict.retry_at``; 403: refused (``verdict`` says why).
    """
    contact = await _contact(request, tenant, channel, external_id)
    outcome = await container_of(request).proactive.send(
        ProactiveRequest(tenant.id, contact.id, body.topic, body.text)
    )
    if outcome.decision is Decision.DEFER:
        response.status_code = status.HTTP_202_ACCEPTED
    elif outcome.decision is Decision.DENY:
        response.status_code = status.HTTP_403_FORBIDDEN
    return SendOut.of(outcome)


@router.put(CONTACT + "/tags/{tag}")
async def add_tag(
    channel: str, external_id: str, tag: Tag, tenant: TenantAccess, request: Request
) -> TagsOut:
    """Tag an existing contact (idempotent); broadcasts address a tag."""
    container = container_of(request)
    async with container.store.transaction() as tx:
        contact = (await find_contact(tx, tenant, check_ref(channel, external_id)))[1]
        await tx.tags.add(tenant.id, contact.id, tag)
        return TagsOut(tags=sorted(await tx.tags.of_contact(contact.id)))


@router.delete(CONTACT + "/tags/{tag}")
async def remove_tag(
    channel: str, external_id: str, tag: Tag, tenant: TenantAccess, request: Request
) -> TagsOut:
    """Take a tag off a contact (idempotent)."""
    container = container_of(request)
    async with container.store.transaction() as tx:
        contact = (await find_contact(tx, tenant, check_ref(channel, external_id)))[1]
        await tx.tags.remove(contact.id, tag)
        return TagsOut(tags=sorted(await tx.tags.of_contact(contact.id)))


@router.post("/tenants/{slug}/guard/plan")
async def plan(body: PlanIn, tenant: TenantAccess, request: Request) -> PlanOut:
    """How many of a tag's contacts the message would reach now, later or never, and why."""
    planned = await container_of(request).planner.plan(
        tenant.slug, Audience(tag=body.tag), topic=body.topic, text=body.text
    )
    names = {r.contact_id: r.external_id for r in planned.recipients}
    return PlanOut.of(planned.plan, names)


@router.post("/tenants/{slug}/guard/explain")
async def explain(body: ExplainIn, tenant: TenantAccess, request: Request) -> ExplainOut:
    """Every rule's view of sending ``text`` to one contact now; sends nothing."""
    contact = await _contact(request, tenant, body.channel, body.external_id)
    decision = await container_of(request).proactive.explain(
        ProactiveRequest(tenant.id, contact.id, body.topic, body.text), kind=body.kind
    )
    return ExplainOut.of(decision)


@router.get("/tenants/{slug}/guard/standing")
async def standing(tenant: TenantAccess, request: Request) -> StandingOut:
    """The tenant's status, standing and violation score."""
    container = container_of(request)
    async with container.store.transaction(readonly=True) as tx:
        score = await tx.violations.score(tenant.id, container.clock.now() - SCORE_WINDOW)
    return StandingOut(
        status=tenant.status.value,
        standing=tenant.standing,
        score=score,
        window_days=SCORE_WINDOW.days,
    )


@router.post("/tenants/{slug}/broadcasts", status_code=status.HTTP_201_CREATED)
async def create_broadcast(
    body: PlanIn, tenant: TenantAccess, principal: CurrentPrincipal, request: Request
) -> BroadcastCreated:
    """Plan and record a broadcast to a tag; it is sent in the background unless it is
    above the tenant's ``human_confirm_over``, when it waits for a second person."""
    container = container_of(request)
    started = await container.broadcasts.create(
        tenant.slug, tag=body.tag, topic=body.topic, text=body.text, created_by=principal.actor
    )
    if started.broadcast.status is BroadcastStatus.SENT:
        _deliver_in_background(request, started.broadcast)
    return BroadcastCreated.of(started)


@router.get("/tenants/{slug}/broadcasts/{broadcast_id}")
async def get_broadcast(broadcast_id: str, tenant: TenantAccess, request: Request) -> BroadcastOut:
    """One broadcast of the tenant."""
    return BroadcastOut.of(await _broadcast(request, tenant, broadcast_id))


@router.post(
    "/tenants/{slug}/broadcasts/{broadcast_id}/approve",
    responses={400: {"description": "`same_approver` or `not_awaiting`"}},
)
async def approve_broadcast(
    broadcast_id: str, tenant: TenantAccess, principal: CurrentPrincipal, request: Request
) -> BroadcastOut:
    """A second person (a different key, or the admin for a key's broadcast) approves; the
    broadcast is then sent in the background."""
    await _broadcast(request, tenant, broadcast_id)
    approved = await container_of(request).broadcasts.approve(broadcast_id, principal.actor)
    _deliver_in_background(request, approved)
    return BroadcastOut.of(approved)


async def _broadcast(request: Request, tenant: TenantRecord, broadcast_id: str) -> BroadcastRecord:
    async with container_of(request).store.transaction(readonly=True) as tx:
        record = await tx.broadcasts.get(broadcast_id)
    if record is None or record.tenant_id != tenant.id:
        raise NotFoundError(f"no broadcast {broadcast_id!r}", code="unknown_broadcast")
    return record


def _deliver_in_background(request: Request, record: BroadcastRecord) -> None:
    """Send the broadcast as a job owned by the container's supervisor (drained on shutdown)."""
    container = container_of(request)
    container.supervisor.spawn(f"broadcast:{record.id}", container.broadcasts.deliver(record.id))
