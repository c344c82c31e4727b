"""The web console (issue 17): server-rendered pages for shops, agents and the operator.

:func:`install_dashboard` adds its routes, its security headers and its two
page answers (sign in first; not found / forbidden as a page) to the app.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from kindbot.web.dashboard import (
    admin,
    analytics,
    campaigns,
    compliance,
    contacts,
    flows,
    inbox,
    knowledge,
    members,
    overview,
    settings,
)
from kindbot.web.dashboard.pages import router
from kindbot.web.dashboard.rendering import render
from kindbot.web.dashboard.security import SecurityHeaders
from kindbot.web.dashboard.session import PageError, SignInRequiredError, optional_visitor


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    visitor = await optional_visitor(request)
    return render(request, "error.html", visitor, status=exc.status, message_key=exc.key)


def install_dashboard(app: FastAPI) -> None:
    """Serve the console from ``app``."""
    app.include_router(router)
    app.include_router(admin.router)
    app.include_router(members.router)
    app.include_router(knowledge.router)
    app.include_router(inbox.router)
    app.include_router(overview.router)
    app.include_router(analytics.router)
    app.include_router(settings.router)
    app.include_router(contacts.router)
    app.include_router(campaigns.router)
    app.include_router(compliance.router)
    app.include_router(flows.router)
    app.add_exception_handler(SignInRequiredError, _sign_in_first)
    app.add_exception_handler(PageError, _page_error)
    app.add_middleware(SecurityHeaders)
