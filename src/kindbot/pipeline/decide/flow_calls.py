"""Calling a tenant's HTTP endpoint for a flow (the I/O edge of :mod:`kindbot.dialogue.flows`).

Contracts: the request carries the flow's slots plus ``flow``, ``tenant``
(the tenant's slug) and ``contact_id`` — as query parameters for ``GET``, as
a JSON object for ``POST``. The answer must be a 2xx JSON object of at most
:data:`MAX_RESPONSE_BYTES`, within the endpoint's timeout; its fields are
flattened to ``a.b.c`` strings. Anything else (refused address, timeout,
connection error, non-2xx — redirects are not followed —, too large, not a
JSON object) is a failed :class:`~kindbot.dialogue.flows.CallResult`, never
an exception.

Server-side request forgery: a tenant chooses the URL and our server calls
it, so ``http`` must be the container's client, whose
:class:`~kindbot.core.egress.PinnedTransport` applies the platform's address
policy (:mod:`kindbot.core.egress`) and pins the request to the checked address;
a refused address is a failed call like any other.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from kindbot.dialogue.flows import CallResult, EndpointCall

__all__ = [
    "MAX_RESPONSE_BYTES",
    "EndpointSpec",
    "call_endpoint",
    "endpoints_from_json",
    "endpoints_to_json",
]

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 64 * 1024
MAX_FIELDS = 200
MAX_FIELD_CHARS = 1000


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    """One of a tenant's endpoints (its headers may hold secrets: stored sealed)."""

    name: str
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    timeout_seconds: float = 3.0


def endpoints_to_json(endpoints: tuple[EndpointSpec, ...]) -> str:
    """The endpoints as canonical JSON (sealed before it is stored)."""
    document = {
        e.name: {
            "url": e.url,
            "method": e.method,
            "headers": dict(e.headers),
            "timeout_seconds": e.timeout_seconds,
        }
        for e in endpoints
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def endpoints_from_json(text: str) -> dict[str, EndpointSpec]:
    """The endpoints :func:`endpoints_to_json` wrote, by name."""
    document = json.loads(text)
    return {
        name: EndpointSpec(
            name=name,
            url=str(spec["url"]),
            method=str(spec["method"]),
            headers=tuple(sorted((str(k), str(v)) for k, v in spec["headers"].items())),
            timeout_seconds=float(spec["timeout_seconds"]),
        )
        for name, spec in document.items()
    }


_CALL_FAILURES = (
    httpx.HTTPError,  # also a refused address (kindbot.core.egress.RefusedAddressError)
    httpx.InvalidURL,
    OSError,
    TimeoutError,
    ValueError,  # also json.JSONDecodeError and UnicodeDecodeError
    RecursionError,  # absurdly nested JSON
)


async def call_endpoint(
    http: httpx.AsyncClient,
    endpoint: EndpointSpec,
    call: EndpointCall,
    *,
    tenant: str,
    contact_id: str,
) -> CallResult:
    """Make ``call`` to ``endpoint``; every failure is a failed result (and a log line)."""
    fields = {**dict(call.slots), "flow": call.flow, "tenant": tenant, "contact_id": contact_id}
    try:
        async with asyncio.timeout(endpoint.timeout_seconds):
            body = await _request(http, endpoint, fields)
    except _CALL_FAILURES as exc:
        log.warning(
            "flow %s: endpoint %s failed: %s: %s",
            call.flow,
            endpoint.name,
            type(exc).__name__,
            exc,
        )
        return CallResult(ok=False)
    return CallResult(ok=True, fields=tuple(sorted(_flattened(body))))


async def _request(
    http: httpx.AsyncClient, endpoint: EndpointSpec, fields: dict[str, str]
) -> dict[str, Any]:
    method = endpoint.method.upper()
    request = http.build_request(
        method,
        endpoint.url,
        params=fields if method == "GET" else None,
        json=fields if method != "GET" else None,
        headers=dict(endpoint.headers),
        timeout=endpoint.timeout_seconds,
    )
    response = await http.send(request, stream=True, follow_redirects=False)
    try:
        if not 200 <= response.status_code < 300:
            raise ValueError(f"status {response.status_code}")
        raw = bytearray()
        async for chunk in response.aiter_bytes():
            raw += chunk
            if len(raw) > MAX_RESPONSE_BYTES:
                raise ValueError(f"response larger than {MAX_RESPONSE_BYTES} bytes")
    finally:
        await response.aclose()
    body = json.loads(bytes(raw))
    if not isinstance(body, dict):
        raise ValueError("response is not a JSON object")
    return body


def _flattened(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Scalars of a JSON value as (``a.b.0.c``, text) pairs; nulls are left out."""
    found: list[tuple[str, str]] = []
    todo: list[tuple[str, Any]] = [(prefix, value)]
    while todo and len(found) < MAX_FIELDS:
        path, item = todo.pop(0)
        if isinstance(item, dict):
            todo += [(f"{path}.{k}" if path else str(k), v) for k, v in item.items()]
        elif isinstance(item, list):
            todo += [(f"{path}.{i}" if path else str(i), v) for i, v in enumerate(item)]
        elif isinstance(item, bool):
            found.append((path, "true" if item else "false"))
        elif item is not None:
            text = item if isinstance(item, str) else json.dumps(item)
            found.append((path, text[:MAX_FIELD_CHARS]))
    return found
