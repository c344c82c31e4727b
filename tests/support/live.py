"""Real uvicorn servers on free loopback ports, for tests that need real sockets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp

from kindbot.bootstrap import Container
from kindbot.web.app import build_app


@asynccontextmanager
async def serve_app(app: ASGIApp) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 at a free port; yields the base URL; stops on exit.

    The listening socket is bound before the server starts, so clients may
    connect at once (the kernel queues them until uvicorn accepts).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def live_server(container: Container) -> AsyncIterator[str]:
    """Serve ``container``'s kindbot app (see :func:`serve_app`)."""
    async with serve_app(build_app(container)) as url:
        yield url
