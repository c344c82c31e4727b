"""``/api/v1/tenants/{slug}/segments``: saved, named filters on contacts (issue 16 §3).

Routes call :mod:`kindbot.ops.segments`, as ``kindbot segment`` does. A body's
definition is read with exact numbers (money is a decimal string; no float)
and validated by :mod:`kindbot.segments.codec`: an invalid one is 422
``invalid_segment`` whose ``problems`` name each path. Previews count the
members now and show the first 20 by contact id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel

from kindbot.core.errors import BadRequestError
from kindbot.ops.segments import (
    Preview,
    SavedSegment,
    create_segment,
    delete_segment,
    get_segment,
    list_segments,
    preview_definition,
    preview_segment,
    replace_segment,
)
from kindbot.segments.codec import definition_text, parse_definition
from kindbot.segments.definition import SegmentDefinition
from kindbot.web.api.auth import CurrentPrincipal, TenantAccess
from kindbot.web.api.models import ERRORS, ErrorBody
from kindbot.web.body import read_limited_body
from kindbot.web.deps import container_of

router = APIRouter(tags=["segments"], responses=ERRORS)

SEGMENTS = "/tenants/{slug}/segments"
MAX_SEGMENT_BODY = 64 * 1024
INVALID: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorBody,
        "description": "Invalid name or definition (`invalid_segment`; `problems` names each "
        "path); nothing was saved",
    }
}

_EXAMPLE_DEFINITION = {
    "all_of": [
        {"tags": {"all": ["vip"]}},
        {"consent": "care"},
        {"orders": {"min": 2}},
        {"last_inbound": {"within_days": 30}},
    ]
}


def _body_schema(*, name: bool) -> dict[str, Any]:
    required = ["name", "definition"] if name else ["definition"]
    properties: dict[str, Any] = {
        "definition": {
            "type": "object",
            "description": "Conditions, all of which must hold (see kindbot.segments.definition).",
        }
    }
    example: dict[str, Any] = {"definition": _EXAMPLE_DEFINITION}
    if name:
        properties["name"] = {"type": "string", "maxLength": 64}
        example = {"name": "active-vips", **example}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "required": required, "properties": properties},
                    "example": example,
                }
            },
        }
    }


class SegmentOut(BaseModel):
    """A saved segment; ``definition`` is its canonical JSON."""

    name: str
    definition: dict[str, Any]
    created_at: datetime
    created_by: str
    updated_at: datetime

    @classmethod
    def of(cls, saved: SavedSegment) -> SegmentOut:
        return cls(
            name=saved.name,
            definition=_shown(saved.definition),
            created_at=saved.created_at,
            created_by=saved.created_by,
            updated_at=saved.updated_at,
        )


class SegmentList(BaseModel):
    """The tenant's segments by name."""

    segments: list[SegmentOut]


class MemberOut(BaseModel):
    """A member: its contact id, display name and channel (id within the tenant)."""

    contact_id: str
    display_name: str | None
    channel: str


class PreviewOut(BaseModel):
    """How many contacts are members now, and the first ones by contact id."""

    count: int
    sample: list[MemberOut]

    @classmethod
    def of(cls, preview: Preview) -> PreviewOut:
        return cls(
            count=preview.count,
            sample=[
                MemberOut(contact_id=m.contact_id, display_name=m.display_name, channel=m.channel)
                for m in preview.sample
            ],
        )


class DeletedOut(BaseModel):
    """The segment that was deleted."""

    deleted: str


def _shown(definition: SegmentDefinition) -> dict[str, Any]:
    """The canonical JSON as a response value (attribute numbers as JSON numbers)."""
    shown: dict[str, Any] = json.loads(definition_text(definition))
    return shown


async def _read(request: Request, keys: tuple[str, ...]) -> Mapping[str, Any]:
    raw = await read_limited_body(request, MAX_SEGMENT_BODY)
    try:
        body = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise BadRequestError("body is not valid JSON", code="invalid_json") from None
    if not isinstance(body, dict) or set(body) != set(keys):
        shape = ", ".join(f'"{k}"' for k in keys)
        raise BadRequestError(
            f"body: a JSON object with {shape} and nothing else", code="invalid_request"
        )
    return body


def _name(body: Mapping[str, Any]) -> str:
    name = body["name"]
    if not isinstance(name, str):
        raise BadRequestError("name: a string", code="invalid_request")
    return name


@router.post(
    SEGMENTS,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_body_schema(name=True),
    responses=INVALID,
)
async def create(tenant: TenantAccess, principal: CurrentPrincipal, request: Request) -> SegmentOut:
    """Save a segment: body ``{"name", "definition"}``. 409 ``segment_exists``;
    422 ``invalid_segment`` for an attribute condition the tenant's declarations do not fit."""
    body = await _read(request, ("name", "definition"))
    container = container_of(request)
    saved = await create_segment(
        container.store,
        tenant,
        _name(body),
        parse_definition(body["definition"]),
        actor=principal.actor,
        now=container.clock.now(),
    )
    return SegmentOut.of(saved)


@router.get(SEGMENTS)
async def list_all(tenant: TenantAccess, request: Request) -> SegmentList:
    """The tenant's saved segments by name."""
    saved = await list_segments(container_of(request).store, tenant)
    return SegmentList(segments=[SegmentOut.of(s) for s in saved])


@router.post(SEGMENTS + "/preview", openapi_extra=_body_schema(name=False), responses=INVALID)
async def preview_adhoc(tenant: TenantAccess, request: Request) -> PreviewOut:
    """Count and sample (20) of an unsaved definition: body ``{"definition"}``."""
    body = await _read(request, ("definition",))
    container = container_of(request)
    preview = await preview_definition(
        container.store, tenant, parse_definition(body["definition"]), now=container.clock.now()
    )
    return PreviewOut.of(preview)


@router.get(SEGMENTS + "/{name}")
async def show(name: str, tenant: TenantAccess, request: Request) -> SegmentOut:
    """One saved segment; 404 ``unknown_segment``."""
    return SegmentOut.of(await get_segment(container_of(request).store, tenant, name))


@router.put(SEGMENTS + "/{name}", openapi_extra=_body_schema(name=False), responses=INVALID)
async def replace(name: str, tenant: TenantAccess, request: Request) -> SegmentOut:
    """Replace a saved segment's definition: body ``{"definition"}``; 404 ``unknown_segment``."""
    body = await _read(request, ("definition",))
    container = container_of(request)
    saved = await replace_segment(
        container.store,
        tenant,
        name,
        parse_definition(body["definition"]),
        now=container.clock.now(),
    )
    return SegmentOut.of(saved)


@router.delete(SEGMENTS + "/{name}")
async def delete(name: str, tenant: TenantAccess, request: Request) -> DeletedOut:
    """Delete a saved segment; 404 ``unknown_segment``."""
    await delete_segment(container_of(request).store, tenant, name)
    return DeletedOut(deleted=name)


@router.get(SEGMENTS + "/{name}/preview")
async def preview_saved(name: str, tenant: TenantAccess, request: Request) -> PreviewOut:
    """The saved segment's member count now and its first 20 members by contact id."""
    container = container_of(request)
    preview = await preview_segment(container.store, tenant, name, now=container.clock.now())
    return PreviewOut.of(preview)
