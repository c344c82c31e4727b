"""``/api/v1/tenants/{slug}/journeys``: follow-ups a shop declares (issue 16 §5) — the
same declarations as the bundle's ``journeys:`` (:mod:`kindbot.core.journeys`), run by
``kindbot worker`` (:mod:`kindbot.campaigns.journeys`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kindbot.bundles.journeys_spec import JourneySpec, TriggerSpec
from kindbot.core.errors import BadRequestError, NotFoundError
from kindbot.core.journeys import format_delay
from kindbot.core.records.journeys import JourneyRecord, JourneyRun, RunStatus
from kindbot.core.records.tenancy import TenantRecord
from kindbot.web.api.auth import TenantAccess
from kindbot.web.api.models import ERRORS
from kindbot.web.deps import container_of

router = APIRouter(tags=["journeys"], responses=ERRORS)
JOURNEY = "/tenants/{slug}/journeys/{name}"


class JourneyBody(BaseModel):
    """A journey's declaration (its name is in the path)."""

    model_config = ConfigDict(extra="forbid")

    trigger: TriggerSpec
    delay: Annotated[str, Field(max_length=16, examples=["3d"])]
    segment: Annotated[str, Field(max_length=64)] | None = None
    topic: Annotated[str, Field(max_length=64)]
    text: Annotated[str, Field(max_length=4000)]


class TriggerOut(BaseModel):
    """``first_contact``, ``event`` (value: the type) or ``tag`` (value: the tag)."""

    kind: str
    value: str | None


class JourneyOut(BaseModel):
    """A journey and how many of its runs are in each status."""

    name: str
    trigger: TriggerOut
    delay: str
    segment: str | None
    topic: str
    text: str
    enabled: bool
    declared_at: datetime
    runs: dict[str, int]

    @classmethod
    def of(cls, journey: JourneyRecord, counts: dict[RunStatus, int]) -> JourneyOut:
        """The body of a stored journey."""
        d = journey.definition
        return cls(
            name=d.name,
            trigger=TriggerOut(kind=d.trigger.value, value=d.trigger_value),
            delay=format_delay(d.delay_seconds),
            segment=d.segment,
            topic=d.topic,
            text=d.text,
            enabled=journey.enabled,
            declared_at=journey.declared_at,
            runs={status.value: counts.get(status, 0) for status in RunStatus},
        )


class RunOut(BaseModel):
    """One contact's run: when it was triggered and due, and how it ended."""

    id: str
    contact_id: str
    trigger: str
    triggered_at: datetime
    due_at: datetime
    status: str
    reason: str | None
    message_id: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, run: JourneyRun) -> RunOut:
        """The body of a stored run."""
        return cls(
            id=run.id,
            contact_id=run.contact_id,
            trigger=run.trigger_ref,
            triggered_at=run.triggered_at,
            due_at=run.due_at,
            status=run.status.value,
            reason=run.reason,
            message_id=run.message_id,
            decided_at=run.decided_at,
        )


class Withdrawn(BaseModel):
    """The journey is withdrawn; ``cancelled`` scheduled runs will not fire."""

    cancelled: int


async def _journey(request: Request, tenant: TenantRecord, name: str) -> JourneyRecord:
    async with container_of(request).store.transaction(readonly=True) as tx:
        found = await tx.journeys.get(tenant.id, name)
    if found is None:
        raise NotFoundError(f"no journey {name!r}", code="unknown_journey")
    return found


@router.get("/tenants/{slug}/journeys")
async def list_journeys(tenant: TenantAccess, request: Request) -> list[JourneyOut]:
    """The shop's journeys (withdrawn ones too), by name."""
    async with container_of(request).store.transaction(readonly=True) as tx:
        every = await tx.journeys.list_for_tenant(tenant.id)
        counts = await tx.journeys.counts(tenant.id)
    return [JourneyOut.of(j, counts.get(j.id, {})) for j in every]


@router.put(JOURNEY, responses={400: {"description": "`invalid_journey`"}})
async def put_journey(
    name: str, body: JourneyBody, tenant: TenantAccess, request: Request
) -> JourneyOut:
    """Declare the journey (or replace the one of that name, enabling it again).

    Only triggers from now on start it; each contact runs it at most once.
    Applying the shop's bundle again withdraws journeys its ``journeys:`` does
    not list (when it has that key).
    """
    try:
        spec = JourneySpec.model_validate({"name": name, **body.model_dump(exclude_none=True)})
    except ValidationError as invalid:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in invalid.errors()
        )
        raise BadRequestError(problems, code="invalid_journey") from None
    journey = await container_of(request).journeys.declare(tenant.id, spec.definition())
    async with container_of(request).store.transaction(readonly=True) as tx:
        counts = await tx.journeys.counts(tenant.id)
    return JourneyOut.of(journey, counts.get(journey.id, {}))


@router.get(JOURNEY)
async def get_journey(name: str, tenant: TenantAccess, request: Request) -> JourneyOut:
    """One journey."""
    journey = await _journey(request, tenant, name)
    async with container_of(request).store.transaction(readonly=True) as tx:
        counts = await tx.journeys.counts(tenant.id)
    return JourneyOut.of(journey, counts.get(journey.id, {}))


@router.delete(JOURNEY)
async def withdraw_journey(name: str, tenant: TenantAccess, request: Request) -> Withdrawn:
    """Withdraw the journey: its scheduled runs are cancelled (kept, with why)."""
    cancelled = await container_of(request).journeys.withdraw(tenant.id, name)
    return Withdrawn(cancelled=cancelled)


@router.get(JOURNEY + "/runs")
async def journey_runs(
    name: str,
    tenant: TenantAccess,
    request: Request,
    status: RunStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RunOut]:
    """The journey's runs, latest due first (``status`` to pick one)."""
    journey = await _journey(request, tenant, name)
    async with container_of(request).store.transaction(readonly=True) as tx:
        found = await tx.journeys.runs(journey.id, status, limit)
    return [RunOut.of(run) for run in found]
