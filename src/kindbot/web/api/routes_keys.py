"""``/api/v1/tenants/{slug}/api-keys``: issue, list and revoke tenants' keys (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from kindbot.ops.api_keys import create_api_key, list_api_keys, revoke_api_key
from kindbot.web.api.auth import AdminAccess
from kindbot.web.api.models import ERRORS, ApiKeyCreated, ApiKeyIn, ApiKeyOut
from kindbot.web.deps import container_of

router = APIRouter(tags=["api keys"], responses=ERRORS)


@router.post("/tenants/{slug}/api-keys", status_code=status.HTTP_201_CREATED)
async def create_key(
    slug: str, body: ApiKeyIn, request: Request, principal: AdminAccess
) -> ApiKeyCreated:
    """A new key for the tenant; its secret ``key`` is in this response only (audited)."""
    container = container_of(request)
    issued = await create_api_key(
        container.store, slug, label=body.label, actor=principal.actor, now=container.clock.now()
    )
    listed = ApiKeyOut.from_record(issued.record)
    return ApiKeyCreated(**listed.model_dump(), key=issued.key)


@router.get("/tenants/{slug}/api-keys")
async def list_keys(slug: str, request: Request, principal: AdminAccess) -> list[ApiKeyOut]:
    """The tenant's keys, revoked ones included (never their secrets)."""
    keys = await list_api_keys(container_of(request).store, slug)
    return [ApiKeyOut.from_record(k) for k in keys]


@router.delete("/tenants/{slug}/api-keys/{key}")
async def revoke_key(slug: str, key: str, request: Request, principal: AdminAccess) -> ApiKeyOut:
    """Revoke a key named by its id or prefix (audited); it stops working at once."""
    container = container_of(request)
    revoked = await revoke_api_key(
        container.store, slug, key, actor=principal.actor, now=container.clock.now()
    )
    return ApiKeyOut.from_record(revoked)
