"""The REST API under ``/api/v1`` (DESIGN.md §8); its OpenAPI document is ``/api/v1/openapi.json``.

Authentication and tenant access are FastAPI dependencies in
:mod:`kindbot.web.api.auth` (``AdminAccess``, ``TenantAccess``,
``CurrentPrincipal``) that every route — including later ones — reuses.
Errors use the app's shape ``{"error": {"code", "message"}}``; what no
database can store is refused before any route runs (:mod:`kindbot.web.api.inputs`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from kindbot.web.api import (
    routes_analytics,
    routes_audit,
    routes_campaigns,
    routes_contacts,
    routes_directory,
    routes_guard,
    routes_inbox,
    routes_journeys,
    routes_keys,
    routes_moderation,
    routes_segments,
    routes_settings,
    routes_tenants,
)
from kindbot.web.api.inputs import checked_inputs

PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """A router with every ``/api/v1`` route (a fresh one per app).

    Every route's inputs are checked first (:mod:`kindbot.web.api.inputs`).
    """
    router = APIRouter(prefix=PREFIX, dependencies=[Depends(checked_inputs)])
    for module in (
        routes_tenants,
        routes_keys,
        routes_audit,
        routes_contacts,
        routes_directory,
        routes_guard,
        routes_settings,
        routes_moderation,
        routes_inbox,
        routes_analytics,
        routes_journeys,
        routes_segments,
        routes_campaigns,
    ):
        router.include_router(module.router)
    return router
