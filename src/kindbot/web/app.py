"""The ASGI application: channel callbacks, web chat, the dashboard, health and the API document."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp

from kindbot.bootstrap import Container, open_container
from kindbot.settings import Settings
from kindbot.web import routes_health
from kindbot.web.api import api_router
from kindbot.web.callbacks import routes as callback_routes
from kindbot.web.chat import routes as chat_routes
from kindbot.web.dashboard import install_dashboard
from kindbot.web.errors import install_error_handlers
from kindbot.web.ratelimit import install_rate_limit_handler

API_PREFIX = "/api/v1"
DOCS_URL = f"{API_PREFIX}/docs"
SWAGGER_ASSETS = "/static/vendor/swagger-ui"


@dataclass(frozen=True, slots=True)
class ExtraMount:
    """Another ASGI app served under ``path``, closed on shutdown (the demo's WeChat stand-in)."""

    path: str
    app: ASGIApp
    name: str
    close: Callable[[], Awaitable[None]]


def build_app(container: Container | None = None, *, mounts: Sequence[ExtraMount] = ()) -> FastAPI:
    """An app serving ``container``; without one, the lifespan opens it from the environment.

    ``mounts`` are served beside kindbot's routes and closed on shutdown; only the
    demo command passes one (a stand-in for WeChat's servers, never production traffic).
    """
    settings = Settings.from_env() if container is None else container.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            if container is not None:
                yield
                return
            async with open_container(
                settings, workers=settings.run_workers_in_process, live=True
            ) as opened:
                app.state.container = opened
                opened.outbox_worker.serving(opened.clock.now())
                # The sentence model loads before the server accepts requests (~1 s),
                # not on the first question.
                await opened.warm_up()
                yield
        finally:
            for mount in mounts:
                await mount.close()

    app = FastAPI(
        title="kindbot",
        version="0.1.0",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.registry = CollectorRegistry()
    rejected = install_error_handlers(app, app.state.registry)
    install_rate_limit_handler(app, rejected)
    static = resources.files("kindbot.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(routes_health.router)
    app.include_router(callback_routes.router)
    app.include_router(chat_routes.router)
    app.include_router(api_router())
    app.add_api_route(DOCS_URL, api_docs, include_in_schema=False)
    install_dashboard(app)
    for mount in mounts:
        app.mount(mount.path, mount.app, name=mount.name)
    return app


async def api_docs() -> HTMLResponse:
    """Swagger UI for ``/api/v1``, its assets served from the package (works offline).

    The assets are vendored from npm ``swagger-ui-dist`` (see the LICENSE and
    NOTICE beside them); the validator badge is off, as it would call
    validator.swagger.io. The page has FastAPI's inline start-up script.
    """
    return get_swagger_ui_html(
        openapi_url=f"{API_PREFIX}/openapi.json",
        title="kindbot API",
        swagger_js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_ASSETS}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},
    )


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (several server processes)."""
    return build_app()
