"""The REST API under ``/api/v1`` (DESIGN.md §8); its OpenAPI document is ``/api/v1/openapi.json``.

Authentication and tenant access are FastAPI dependencies in
:mod:`kindbot.web.api.auth` (``AdminAccess``, ``TenantAccess``,
``CurrentPrincipal``) that every route — including later ones — reuses.
Errors use the app's shape ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from fastapi import APIRouter

from kindbot.web.api import (
    routes_audit,
    routes_contacts,
    routes_guard,
    routes_inbox,
    routes_keys,
    routes_moderation,
    routes_tenants,
)

PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """A router with every ``/api/v1`` route (a fresh one per app)."""
    router = APIRouter(prefix=PREFIX)
    for module in (
        routes_tenants,
        routes_keys,
        routes_audit,
        routes_contacts,
        routes_guard,
        routes_moderation,
        routes_inbox,
    ):
        router.include_router(module.router)
    return router
