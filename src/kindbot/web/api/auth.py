"""Who is calling the REST API, and may they touch this tenant.

Two kinds of bearer token (``Authorization: Bearer …``):

* the platform admin's token (``KINDBOT_ADMIN_TOKEN``, else generated into the
  data dir; ``kindbot admin token`` prints it) — every endpoint;
* a tenant's API key (``kindbot tenant api-key create``) — that tenant's
  endpoints only.

Routes declare what they need with the dependencies below:

* :data:`AdminAccess` — the admin only (403 ``admin_only`` for a tenant key);
* :data:`TenantAccess` — the admin or a key of the tenant in the path's
  ``{slug}``; yields its :class:`~kindbot.core.records.tenancy.TenantRecord` (404
  ``unknown_tenant`` for the admin, 403 ``other_tenant`` for a key of another
  tenant — also when the slug does not exist, so keys learn nothing about
  other tenants);
* :data:`CurrentPrincipal` — the caller, whose ``actor`` goes into audit entries.

Missing, malformed, unknown or revoked credentials are 401 ``unauthorized``.
Tokens are compared in constant time (the admin token directly, keys by their
SHA-256 after finding the row by the key's public prefix).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kindbot.core.errors import KindbotError, NotFoundError
from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.api_keys import check_api_key
from kindbot.web.deps import container_of
from kindbot.web.ratelimit import source_address

ADMIN_ACTOR = "admin"

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="The platform admin's token, or a tenant's API key (`kbk_…`).",
)


class UnauthorizedError(KindbotError):
    """No valid credentials."""

    code = "unauthorized"
    http_status = 401


class ForbiddenError(KindbotError):
    """Valid credentials that do not reach this resource."""

    code = "forbidden"
    http_status = 403


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    ``actor`` names them in audit entries and ``source`` fields: ``admin``, or
    ``key:<prefix>`` for a tenant key; ``tenant_id`` is the key's tenant
    (None for the admin).
    """

    actor: str
    tenant_id: str | None = None
    key_id: str | None = None

    @property
    def is_admin(self) -> bool:
        """True for the platform admin's token."""
        return self.tenant_id is None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller behind the bearer token, or 401 ``unauthorized``.

    Failures are counted per source address (limit ``auth_failure``); once it
    is used up, every request from the address is 429 ``rate_limited`` before
    its token is looked at, so tokens cannot be guessed quickly.
    """
    container = container_of(request)
    address = source_address(request)
    await container.rate_limiter.check("auth_failure", address)
    if credentials is None or not credentials.credentials:
        await container.rate_limiter.hit("auth_failure", address)
        raise UnauthorizedError("missing credentials: send 'Authorization: Bearer <token>'")
    token = credentials.credentials
    if _same(token, container.admin_token):
        return Principal(ADMIN_ACTOR)
    holder = await check_api_key(container.store, token)
    if holder is None:
        await container.rate_limiter.hit("auth_failure", address)
        raise UnauthorizedError("the token is not valid (unknown or revoked)")
    return Principal(f"key:{holder.key.prefix}", holder.tenant.id, holder.key.id)


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


async def require_admin(principal: CurrentPrincipal) -> Principal:
    """The admin, or 403 ``admin_only``."""
    if not principal.is_admin:
        raise ForbiddenError("only the platform admin's token may do this", code="admin_only")
    return principal


AdminAccess = Annotated[Principal, Depends(require_admin)]


async def require_tenant(slug: str, request: Request, principal: CurrentPrincipal) -> TenantRecord:
    """The tenant ``slug`` when the caller may act for it (see the module docstring)."""
    async with container_of(request).store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug(slug)
    if not principal.is_admin and (tenant is None or tenant.id != principal.tenant_id):
        raise ForbiddenError("this API key belongs to another tenant", code="other_tenant")
    if tenant is None:
        raise NotFoundError(f"no tenant {slug!r}", code="unknown_tenant")
    return tenant


TenantAccess = Annotated[TenantRecord, Depends(require_tenant)]
