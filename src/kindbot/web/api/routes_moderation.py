"""Moderation over ``/api/v1``: the lexicon edits (platform and tenant) and screening a text.

The platform lexicon (``/moderation/terms``) is the operator's (admin only);
a tenant edits its own (``/tenants/{slug}/moderation/terms``) and may only
tighten: allowing away a platform block term is refused (400
``invalid_term``). Edits apply at once in this process and within a second in
the others.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from kindbot.core.records.moderation import ModerationTerm, TermAction
from kindbot.core.records.tenancy import TenantRecord
from kindbot.core.screening import ContentContext, Direction, ScreeningVerdict
from kindbot.ops import moderation_terms as terms_ops
from kindbot.web.api.auth import AdminAccess, CurrentPrincipal, TenantAccess
from kindbot.web.api.models import ERRORS
from kindbot.web.deps import container_of

router = APIRouter(tags=["moderation"], responses=ERRORS)


class TermIn(BaseModel):
    """A term to add: ``deny`` blocks outbound, ``flag`` marks, ``allow`` exempts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: Annotated[str, Field(min_length=1, max_length=100)]
    action: TermAction
    category: Annotated[str, Field(max_length=16)] | None = None


class TermOut(BaseModel):
    """A stored term."""

    term: str
    action: str
    category: str | None
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, term: ModerationTerm) -> TermOut:
        return cls(
            term=term.term,
            action=term.action.value,
            category=term.category,
            created_at=term.created_at,
            created_by=term.created_by,
        )


class TermsOut(BaseModel):
    """The stored terms of one scope, oldest first."""

    terms: list[TermOut]


class ScreenIn(BaseModel):
    """A text to screen as the tenant's bot would (outbound) or as a customer's (inbound)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: Annotated[str, Field(max_length=1_048_576)]
    direction: Direction = Direction.OUTBOUND
    proactive: bool = False
    group: bool = False


class MatchOut(BaseModel):
    """Why: the matched term, its category and rule, and where it is in the text."""

    term: str
    category: str
    rule: str
    start: int
    end: int
    excerpt: str


class ScreenOut(BaseModel):
    """The verdict (``ok``, ``flag``, ``block``), its categories and its matches."""

    verdict: str
    categories: list[str]
    matches: list[MatchOut]

    @classmethod
    def of(cls, verdict: ScreeningVerdict) -> ScreenOut:
        return cls(
            verdict=verdict.level.value,
            categories=[category.value for category in verdict.categories],
            matches=[
                MatchOut(
                    term=m.term,
                    category=m.category.value,
                    rule=m.rule,
                    start=m.start,
                    end=m.end,
                    excerpt=m.excerpt,
                )
                for m in verdict.matches
            ],
        )


@router.get("/moderation/terms")
async def platform_terms(_: AdminAccess, request: Request) -> TermsOut:
    """The operator's platform terms."""
    return await _list(request, None)


@router.post("/moderation/terms", status_code=status.HTTP_201_CREATED)
async def add_platform_term(
    body: TermIn, principal: AdminAccess, request: Request, response: Response
) -> TermOut | None:
    """Add a platform term (201; 200 with null when it is already there)."""
    return await _add(request, response, None, body, principal.actor)


@router.delete("/moderation/terms/{term}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_platform_term(term: str, _: AdminAccess, request: Request) -> None:
    """Remove a platform term (404 ``unknown_term``)."""
    await terms_ops.remove_term(container_of(request).store, None, term)
    await container_of(request).screeners.refresh()


@router.get("/tenants/{slug}/moderation/terms")
async def tenant_terms(tenant: TenantAccess, request: Request) -> TermsOut:
    """The tenant's own terms."""
    return await _list(request, tenant)


@router.post("/tenants/{slug}/moderation/terms", status_code=status.HTTP_201_CREATED)
async def add_tenant_term(
    body: TermIn,
    tenant: TenantAccess,
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
) -> TermOut | None:
    """Add a tenant term (201; 200 with null when it is already there)."""
    return await _add(request, response, tenant, body, principal.actor)


@router.delete("/tenants/{slug}/moderation/terms/{term}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_tenant_term(term: str, tenant: TenantAccess, request: Request) -> None:
    """Remove a tenant term (404 ``unknown_term``)."""
    await terms_ops.remove_term(container_of(request).store, tenant, term)
    await container_of(request).screeners.refresh()


@router.post("/tenants/{slug}/moderation/screen")
async def screen(body: ScreenIn, tenant: TenantAccess, request: Request) -> ScreenOut:
    """Screen a text with the platform's and the tenant's lexicon, as the guard would."""
    screener = await container_of(request).admission.screener()
    context = ContentContext(body.direction, body.proactive, body.group, tenant.id)
    if screener is None:
        return ScreenOut(verdict="ok", categories=[], matches=[])
    return ScreenOut.of(screener.screen(body.text, context))


async def _list(request: Request, tenant: TenantRecord | None) -> TermsOut:
    found = await terms_ops.list_terms(container_of(request).store, tenant)
    return TermsOut(terms=[TermOut.of(term) for term in found])


async def _add(
    request: Request, response: Response, tenant: TenantRecord | None, body: TermIn, actor: str
) -> TermOut | None:
    container = container_of(request)
    added = await terms_ops.add_term(
        container.store,
        tenant,
        term=body.term,
        category=body.category,
        action=body.action,
        created_by=actor,
        now=container.clock.now(),
    )
    await container.screeners.refresh()
    if not added.created or added.term is None:
        response.status_code = status.HTTP_200_OK
        return None
    return TermOut.of(added.term)
