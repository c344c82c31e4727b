"""Uniform error responses: ``{"error": {"code", "message"}}`` with a 4xx status.

Every rejected request increments ``kindbot_rejected_requests_total`` by code;
nothing else about it is stored.

Overload is not a client error and not a crash: :class:`StorageBusyError` (no
database connection free within the pool's timeout) is a 503 ``storage_busy``
with ``Retry-After``, logged as one WARNING line without a traceback. A
platform's callback (:data:`PLATFORM_CALLBACK` set on the request) gets the
503 without a body: WeChat and WeCom take any answer but a 200 as a failed
push and retry it (three times), which is what an overloaded server wants; a
body is never read as a reply (a 200 with a JSON body is what shows the user
"该公众号提供的服务出现故障"), and ``success`` would tell them the message was
handled when it may not even be stored.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter
from starlette.exceptions import HTTPException
from starlette.responses import Response

from kindbot.core.errors import KindbotError, StorageBusyError

log = logging.getLogger(__name__)

PLATFORM_CALLBACK = "platform_callback"
"""``request.state`` flag of a channel callback: errors from overload answer without a body."""


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The JSON error shape."""
    return {"error": {"code": code, "message": message}}


def install_error_handlers(app: FastAPI, registry: CollectorRegistry) -> Counter:
    """Map kindbot, validation and HTTP errors to the uniform shape; returns the counter."""
    rejected = Counter(
        "kindbot_rejected_requests",
        "Requests rejected with a 4xx error, by error code",
        ["code"],
        registry=registry,
    )

    async def kindbot_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, KindbotError)
        rejected.labels(exc.code).inc()
        detail: dict[str, object] = {"code": exc.code, "message": exc.message}
        detail.update(exc.details())
        return JSONResponse({"error": detail}, status_code=exc.http_status)

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        rejected.labels("invalid_request").inc()
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid request", "loc": ()}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(
            error_body("invalid_request", f"{where}: {first.get('msg')}"), status_code=400
        )

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        if exc.status_code < 500:
            rejected.labels(code).inc()
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    async def storage_busy(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StorageBusyError)
        log_storage_busy(f"{request.method} {request.url.path}", exc)
        headers = {"Retry-After": str(exc.retry_after)}
        if getattr(request.state, PLATFORM_CALLBACK, False):
            return Response(status_code=exc.http_status, headers=headers)
        body = error_body(exc.code, exc.message)
        return JSONResponse(body, status_code=exc.http_status, headers=headers)

    app.add_exception_handler(StorageBusyError, storage_busy)
    app.add_exception_handler(KindbotError, kindbot_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    return rejected


def log_storage_busy(where: str, exc: StorageBusyError) -> None:
    """One WARNING line (no traceback) for work refused because the server is overloaded."""
    log.warning("%s: %s (%s)", where, exc.code, exc.message)
