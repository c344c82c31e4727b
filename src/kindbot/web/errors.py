"""Uniform error responses: ``{"error": {"code", "message"}}`` with a 4xx status.

Every rejected request increments ``kindbot_rejected_requests_total`` by code;
nothing else about it is stored.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter
from starlette.exceptions import HTTPException

from kindbot.core.errors import KindbotError


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

    app.add_exception_handler(KindbotError, kindbot_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    return rejected
