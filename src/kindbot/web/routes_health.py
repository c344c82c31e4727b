"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kindbot.storage import migrate
from kindbot.web.deps import container_of

router = APIRouter()


@router.get("/healthz", tags=["ops"])
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", tags=["ops"])
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is current (503 otherwise)."""
    container = container_of(request)
    try:
        await container.store.ping()
        current = await migrate.current_revision(container.store.engine)
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "reason": repr(exc)}, status_code=503)
    if current != migrate.head_revision():
        reason = f"schema at {current}, needs {migrate.head_revision()}"
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ready", "schema": current})


@router.get("/metrics", tags=["ops"])
async def metrics(request: Request) -> Response:
    """Prometheus text exposition of this process's metrics."""
    registry = request.app.state.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
