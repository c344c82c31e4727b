"""Rendering dashboard pages: one Jinja2 environment, the context every page gets."""

from __future__ import annotations

from datetime import UTC, datetime, timezone
from functools import partial
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.accounts import Visitor
from kindbot.web.dashboard.i18n import LANG_COOKIE, Lang, parse_lang, text
from kindbot.web.dashboard.session import request_lang, set_cookie

templates = Jinja2Templates(
    directory=str(resources.files("kindbot.web.dashboard").joinpath("templates"))
)
LANG_COOKIE_SECONDS = 365 * 24 * 3600


def local_time(zone: ZoneInfo | timezone, at: datetime, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """``at`` in the shop's time zone (UTC outside a shop), formatted; zone name appended."""
    shown = at.astimezone(zone).strftime(pattern)
    return shown if pattern == "%H:%M" else f"{shown} ({getattr(zone, 'key', 'UTC')})"


def render(
    request: Request,
    template: str,
    visitor: Visitor | None,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` in the request's language, with ``t`` (texts), ``lang`` and ``visitor``.

    An explicit ``?lang=`` is remembered in a cookie.
    """
    lang = request_lang(request, visitor)
    tenant = context.get("tenant")
    zone = ZoneInfo(tenant.timezone) if isinstance(tenant, TenantRecord) else UTC
    response = templates.TemplateResponse(
        request,
        template,
        {
            "t": partial(text, lang),
            "lang": lang.value,
            "html_lang": "zh-CN" if lang is Lang.ZH else "en",
            "other_lang": (Lang.EN if lang is Lang.ZH else Lang.ZH).value,
            "visitor": visitor,
            "local": partial(local_time, zone),
            **context,
        },
        status_code=status,
    )
    if parse_lang(request.query_params.get("lang")) is not None:
        set_cookie(request, response, LANG_COOKIE, lang.value, LANG_COOKIE_SECONDS)
    return response
