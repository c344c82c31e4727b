"""Access to the container from request handlers."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from kindbot.bootstrap import Container


def container_of(connection: HTTPConnection) -> Container:
    """The container serving this app (set by the app factory or its lifespan)."""
    container = connection.app.state.container
    assert isinstance(container, Container)
    return container
