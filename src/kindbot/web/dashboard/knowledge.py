"""A shop's knowledge base in the dashboard: browse, test, edit, import, see what is unanswered.

Every member reads it and uses the test box; shop admins edit, delete and
import. All of it goes through :mod:`kindbot.ops.knowledge_base`, the service
``kindbot kb`` uses, so the page shows exactly what the bot would do.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path, PurePath
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from kindbot.core.errors import BadRequestError, InputFileError
from kindbot.core.records.accounts import Role
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.core.records.tenancy import TenantRecord
from kindbot.dialogue.kb_files import read_knowledge_file
from kindbot.ops.accounts import Visitor
from kindbot.ops.knowledge_base import (
    answer_for,
    delete_entry,
    entry_from_form,
    save_entries,
    tenant_threshold,
    unanswered_report,
)
from kindbot.web.dashboard.pages import SignedInVisitor, redirect, shop_for, shop_form
from kindbot.web.dashboard.rendering import render
from kindbot.web.dashboard.session import PageError
from kindbot.web.deps import container_of

router = APIRouter(include_in_schema=False)
EDITORS = (Role.TENANT_ADMIN,)
PAGE_SIZE = 50
MAX_UPLOAD = 5 * 1024 * 1024
IMPORT_SUFFIXES = frozenset({".csv", ".xlsx", ".json", ".yaml", ".yml"})
UNANSWERED_MESSAGES = 5000


def _matches(entry: KnowledgeEntry, search: str) -> bool:
    needle = search.casefold()
    texts = (entry.id, entry.question, entry.answer, *entry.similar, *entry.tags)
    return any(needle in text.casefold() for text in texts)


async def _kb_page(
    request: Request,
    visitor: Visitor,
    tenant: TenantRecord,
    role: Role,
    *,
    status: int = 200,
    draft: KnowledgeEntry | None = None,
    error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    container = container_of(request)
    params = request.query_params
    search = params.get("q", "").strip()[:200]
    async with container.store.transaction(readonly=True) as tx:
        entries = await tx.knowledge.list(tenant.id)
    shown = [e for e in entries if _matches(e, search)] if search else entries
    shown.sort(key=lambda e: e.id != search)  # an exact id (a candidate's link) comes first
    page = max(1, int(params.get("page", "1"))) if params.get("page", "1").isdigit() else 1
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    page = min(page, pages)
    test_text = params.get("test", "").strip()[:500]
    tested = None
    if test_text:
        index, threshold = await tenant_threshold(container.knowledge, tenant)
        tested = answer_for(index, test_text, threshold)
    editing = draft
    if editing is None and params.get("edit"):
        editing = next((e for e in entries if e.id == params.get("edit")), None)
    if editing is None and params.get("new"):
        editing = KnowledgeEntry(
            id="",
            question=params.get("new", "")[:500],
            answer="",
            similar=tuple(params.getlist("similar"))[:50],
            tags=(),
        )
    return render(
        request,
        "knowledge.html",
        visitor,
        status=status,
        tenant=tenant,
        role=role,
        can_edit=role in EDITORS,
        entries=shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(entries),
        found=len(shown),
        search=search,
        page=page,
        pages=pages,
        test_text=test_text,
        tested=tested,
        editing=editing,
        error=error,
        notice=notice or params.get("notice"),
    )


@router.get("/dashboard/{slug}/kb")
async def kb_page(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """Entries (search, pages), the test box and, for shop admins, the editor."""
    tenant, role = await shop_for(request, visitor, slug)
    return await _kb_page(request, visitor, tenant, role)


@router.post("/dashboard/{slug}/kb/entries")
async def save_entry(
    slug: str,
    request: Request,
    visitor: SignedInVisitor,
    entry_id: Annotated[str, Form(max_length=100)] = "",
    question: Annotated[str, Form(max_length=2000)] = "",
    answer: Annotated[str, Form(max_length=8000)] = "",
    similar: Annotated[str, Form(max_length=20000)] = "",
    tags: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Add or update one entry (by id; a new entry's id comes from its question)."""
    tenant, role = await shop_form(request, visitor, slug, csrf, EDITORS)
    draft = KnowledgeEntry(entry_id, question, answer, tuple(similar.splitlines()), (tags,))
    try:
        entry = entry_from_form(
            entry_id=entry_id, question=question, answer=answer, similar=similar, tags=tags
        )
    except BadRequestError as refused:
        return await _kb_page(
            request, visitor, tenant, role, status=400, draft=draft, error=refused.message
        )
    container = container_of(request)
    await save_entries(container.store, container.knowledge, tenant.id, [entry])
    return redirect(f"/dashboard/{slug}/kb?q={quote(entry.id)}&notice={quote(entry.id)}")


@router.post("/dashboard/{slug}/kb/entries/{entry_id}/delete")
async def remove_entry(
    slug: str,
    entry_id: str,
    request: Request,
    visitor: SignedInVisitor,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Delete one entry (404 when there is none with this id)."""
    tenant, _ = await shop_form(request, visitor, slug, csrf, EDITORS)
    if not await delete_entry(container_of(request).store, tenant.id, entry_id):
        raise PageError(404, "not_found")
    return redirect(f"/dashboard/{slug}/kb?notice={quote('✕ ' + entry_id)}")


@router.post("/dashboard/{slug}/kb/import")
async def import_file(
    slug: str,
    request: Request,
    visitor: SignedInVisitor,
    file: Annotated[UploadFile | None, File()] = None,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Import a CSV/XLSX/JSON/YAML file: every problem listed and nothing applied, or all of it."""
    tenant, role = await shop_form(request, visitor, slug, csrf, EDITORS)
    name = PurePath(file.filename or "upload").name if file else ""
    suffix = PurePath(name).suffix.lower()
    data = await file.read(MAX_UPLOAD + 1) if file else b""
    problem = None
    if file is None:
        problem = "choose a file to import"
    elif suffix not in IMPORT_SUFFIXES:
        problem = f"{name}: use a .csv, .xlsx, .json or .yaml file"
    elif len(data) > MAX_UPLOAD:
        problem = f"{name}: larger than {MAX_UPLOAD // (1024 * 1024)} MB"
    if problem is not None:
        return await _kb_page(request, visitor, tenant, role, status=400, error=problem)
    try:
        entries = _read_upload(name, suffix, data)
    except InputFileError as refused:
        lines = "; ".join(str(p) for p in refused.problems[:20])
        return await _kb_page(
            request, visitor, tenant, role, status=400, error=f"nothing was imported: {lines}"
        )
    container = container_of(request)
    saved = await save_entries(container.store, container.knowledge, tenant.id, entries)
    notice = f"{name}: +{saved.created} ~{saved.updated} ={saved.unchanged}"
    return redirect(f"/dashboard/{slug}/kb?notice={quote(notice)}")


def _read_upload(name: str, suffix: str, data: bytes) -> list[KnowledgeEntry]:
    """Read an uploaded knowledge file with the same reader as ``kb import`` (named as uploaded)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            return read_knowledge_file(path)
        except InputFileError as refused:
            named = [replace(problem, file=name) for problem in refused.problems]
            raise InputFileError(named) from None


@router.get("/dashboard/{slug}/kb/unanswered")
async def unanswered_page(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """Questions customers asked that the knowledge base cannot answer, grouped by meaning."""
    tenant, role = await shop_for(request, visitor, slug)
    container = container_of(request)
    report = await unanswered_report(
        container.store, container.knowledge, tenant, since=None, limit=UNANSWERED_MESSAGES
    )
    return render(
        request,
        "unanswered.html",
        visitor,
        tenant=tenant,
        role=role,
        report=report,
        can_edit=role in EDITORS,
    )
