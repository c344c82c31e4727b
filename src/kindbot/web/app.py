"""The ASGI application: channel callbacks, web chat, health and the API document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from kindbot.bootstrap import Container, open_container
from kindbot.settings import Settings
from kindbot.web import routes_channels, routes_chat, routes_health
from kindbot.web.errors import install_error_handlers

API_PREFIX = "/api/v1"


def build_app(container: Container | None = None) -> FastAPI:
    """An app serving ``container``; without one, the lifespan opens it from the environment."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if container is not None:
            yield
            return
        settings = Settings.from_env()
        async with open_container(settings, workers=settings.run_workers_in_process) as opened:
            app.state.container = opened
            yield

    app = FastAPI(
        title="kindbot",
        version="0.1.0",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.registry = CollectorRegistry()
    install_error_handlers(app, app.state.registry)
    static = resources.files("kindbot.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(routes_health.router)
    app.include_router(routes_channels.router)
    app.include_router(routes_chat.router)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (several server processes)."""
    return build_app()
