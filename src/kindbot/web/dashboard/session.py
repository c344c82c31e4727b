"""Who is looking at a dashboard page, in which language, and the CSRF check of its forms.

The session cookie (``kb_session``) is HttpOnly, SameSite=Lax, and Secure when
the request came over HTTPS (behind a TLS proxy: run uvicorn with proxy
headers). Every state-changing form carries the session's CSRF token, compared
in constant time; the sign-in form, which has no session yet, uses a
double-submit cookie (``kb_login_csrf``).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from fastapi.responses import Response

from kindbot.ops.accounts import SESSION_TTL, Visitor, visitor_for
from kindbot.web.dashboard.i18n import LANG_COOKIE, Lang, choose_lang
from kindbot.web.deps import container_of

SESSION_COOKIE = "kb_session"
LOGIN_CSRF_COOKIE = "kb_login_csrf"


class SignInRequiredError(Exception):
    """The page needs a signed-in user (answered with a redirect to the sign-in page)."""


class PageError(Exception):
    """A page refused: ``status`` (403/404) and the text key of its message."""

    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def is_https(request: Request) -> bool:
    """True when the request arrived over TLS (as uvicorn reports it)."""
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, seconds: int) -> None:
    """Set an HttpOnly, SameSite=Lax cookie (Secure over HTTPS) on ``response``."""
    response.set_cookie(
        name,
        value,
        max_age=seconds,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def start_session_cookie(request: Request, response: Response, token: str) -> None:
    """Give the browser its new session token."""
    set_cookie(request, response, SESSION_COOKIE, token, int(SESSION_TTL.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")


def new_login_csrf() -> str:
    """A fresh token for the sign-in form's double submit."""
    return secrets.token_urlsafe(24)


async def optional_visitor(request: Request) -> Visitor | None:
    """The signed-in visitor, or None (no cookie, unknown or expired session)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    container = container_of(request)
    return await visitor_for(container.store, token, container.clock.now())


async def current_visitor(request: Request) -> Visitor:
    """The signed-in visitor, or :class:`SignInRequiredError`."""
    visitor = await optional_visitor(request)
    if visitor is None:
        raise SignInRequiredError()
    return visitor


def request_lang(request: Request, visitor: Visitor | None) -> Lang:
    """The language of this page (see :mod:`kindbot.web.dashboard.i18n`)."""
    return choose_lang(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        visitor.user.locale if visitor else None,
        request.headers.get("accept-language"),
    )


def csrf_ok(visitor: Visitor, posted: str | None) -> bool:
    """True when the form echoed the session's CSRF token."""
    return bool(posted) and same(visitor.session.csrf, posted or "")
