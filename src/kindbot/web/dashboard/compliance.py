"""A shop's compliance page: its audit log, the chain's verification, standing, moderation terms.

Shop admins and viewers open it (agents get 403). The log is listed newest
first, 50 entries a page, filtered by kind, decision and text in the subject
(``AuditRepository.newest``, which seals pending entries first). "Verify the
chain" is a POST (CSRF) that runs :func:`kindbot.ops.audit_log.verify_tenant_chain`,
the check ``kindbot audit verify`` makes. Standing is the tenant's, with the
rolling violation score and the recent violations; the moderation terms are
the shop's own lexicon, read-only here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from kindbot.core.records.accounts import Role
from kindbot.core.records.audit import AuditEntry, AuditFilter
from kindbot.core.records.tenancy import TenantRecord
from kindbot.guard.violations import SCORE_WINDOW
from kindbot.ops.accounts import Visitor
from kindbot.ops.audit_log import ChainReport, verify_tenant_chain
from kindbot.ops.moderation_terms import list_terms
from kindbot.web.dashboard.i18n import Lang
from kindbot.web.dashboard.pages import SignedInVisitor, shop_for, shop_form
from kindbot.web.dashboard.rendering import render
from kindbot.web.dashboard.session import request_lang
from kindbot.web.deps import container_of

router = APIRouter(include_in_schema=False)
READERS = (Role.TENANT_ADMIN, Role.VIEWER)
PAGE_SIZE = 50
RECENT_VIOLATIONS = 20
MAX_SEARCH = 200
DETAIL_SHOWN = 300
"""Characters of a detail without a reason shown in the list."""


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One audit entry as the page lists it: ``reason`` in the page's language."""

    seq: int
    at: datetime
    kind: str
    subject: str
    rule: str
    decision: str
    reason: str


def reason_of(detail: str, lang: Lang) -> str:
    """The reason an entry's detail gives, in ``lang`` when it has both.

    ``reason_zh``/``reason_en`` (either when only one is there), else a plain
    ``reason``, else the detail's fields as ``name: value`` (a detail that is
    not a JSON object: as it is), shortened; empty for an empty object.
    """
    try:
        fields = json.loads(detail)
    except ValueError:
        return detail[:DETAIL_SHOWN]
    if not isinstance(fields, dict):
        return detail[:DETAIL_SHOWN]
    first, second = ("reason_zh", "reason_en") if lang is Lang.ZH else ("reason_en", "reason_zh")
    for key in (first, second, "reason"):
        value = fields.get(key)
        if isinstance(value, str) and value:
            return value
    shown = " · ".join(f"{name}: {_plain(value)}" for name, value in fields.items())
    return shown[:DETAIL_SHOWN]


def _plain(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _row(entry: AuditEntry, lang: Lang) -> AuditRow:
    return AuditRow(
        seq=entry.seq,
        at=entry.at,
        kind=entry.kind,
        subject=entry.subject,
        rule=entry.rule,
        decision=entry.decision,
        reason=reason_of(entry.detail, lang),
    )


def _positive(value: str | None) -> int | None:
    if value is None or not (value.isascii() and value.isdigit() and len(value) < 19):
        return None
    return int(value) or None


async def _page(
    request: Request,
    visitor: Visitor,
    tenant: TenantRecord,
    role: Role,
    *,
    verified: ChainReport | None = None,
) -> HTMLResponse:
    container = container_of(request)
    params = request.query_params
    where = AuditFilter(
        kind=params.get("kind", "").strip()[:32] or None,
        decision=params.get("decision", "").strip()[:16] or None,
        text=params.get("q", "").strip()[:MAX_SEARCH] or None,
    )
    before = _positive(params.get("before"))
    lang = request_lang(request, visitor)
    since = container.clock.now() - SCORE_WINDOW
    async with container.store.transaction(readonly=True) as tx:
        found = await tx.audit.newest(tenant.id, where, before_seq=before, limit=PAGE_SIZE + 1)
        facets = await tx.audit.facets(tenant.id)
        score = await tx.violations.score(tenant.id, since)
        violations = await tx.violations.recent(tenant.id, RECENT_VIOLATIONS)
    terms = await list_terms(container.store, tenant)
    shown = found[:PAGE_SIZE]
    return render(
        request,
        "compliance.html",
        visitor,
        tenant=tenant,
        role=role,
        rows=[_row(e, lang) for e in shown],
        where=where,
        facets=facets,
        before=before,
        older=shown[-1].seq if len(found) > PAGE_SIZE else None,
        query=urlencode([(k, v) for k, v in params.items() if k != "lang"]),
        verified=verified,
        score=score,
        window_days=SCORE_WINDOW.days,
        violations=violations,
        terms=terms,
    )


@router.get("/dashboard/{slug}/compliance")
async def compliance_page(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """The audit log (filters, pages), standing and violations, moderation terms."""
    tenant, role = await shop_for(request, visitor, slug, READERS)
    return await _page(request, visitor, tenant, role)


@router.post("/dashboard/{slug}/compliance/verify")
async def verify(
    slug: str,
    request: Request,
    visitor: SignedInVisitor,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    """Verify the whole hash chain (as ``kindbot audit verify``) and show the outcome."""
    tenant, role = await shop_form(request, visitor, slug, csrf, READERS)
    report = await verify_tenant_chain(container_of(request).store, tenant.id, tenant.slug)
    return await _page(request, visitor, tenant, role, verified=report)
