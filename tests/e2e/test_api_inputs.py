"""What no database can store never reaches one through ``/api/v1`` (issue 13).

Every route is enumerated from the app itself (a new route is covered without a
new case): each path value replaced by text holding a NUL, a lone surrogate or
far too many characters, and every JSON body holding a NUL or a lone surrogate,
is a 4xx with a code — on PostgreSQL, which refuses NUL in text, too.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from tests.support.routes import walk_routes

from kindbot.bootstrap import Container
from kindbot.web.app import build_app

BAD_PATH_VALUES = ("a%00b", "%ED%A0%80", "x" * 3000)
BAD_BODIES = (b'{"tag": "a\\u0000b", "text": "x"}', b'{"text": "\\ud800", "topic": "x"}')


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def _routes(container: Container) -> list[tuple[str, str]]:
    """(method, path) of every ``/api/v1`` route, from the app itself."""
    return sorted(
        {(m, p) for m, p in walk_routes(build_app(container).routes) if p.startswith("/api/v1/")}
    )


async def test_unstorable_path_values_are_refused_on_every_route(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    routes = [(m, p) for m, p in _routes(container) if "{" in p]
    assert len(routes) > 30
    for method, path in routes:
        for value in BAD_PATH_VALUES:
            url = re.sub(r"\{[^}]+\}", value, path)
            response = await client.request(method, url, headers=admin, json={})
            assert 400 <= response.status_code < 500, (method, url[:80], response.text)
            assert response.json()["error"]["code"], response.text


async def test_unstorable_text_in_a_json_body_is_refused_on_every_route(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    routes = [(m, p) for m, p in _routes(container) if m in ("POST", "PUT", "PATCH")]
    assert len(routes) > 15
    for method, path in routes:
        url = path.replace("{slug}", "teashop")
        url = re.sub(r"\{[^}]+\}", "x", url)
        for body in BAD_BODIES:
            headers = {**admin, "Content-Type": "application/json"}
            response = await client.request(method, url, headers=headers, content=body)
            assert response.status_code == 400, (method, url, response.text)
            assert response.json()["error"]["code"] == "invalid_text", response.text
