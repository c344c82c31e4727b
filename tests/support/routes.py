"""Enumerating an app's routes, through included routers (any FastAPI version)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def walk_routes(routes: Any) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, HEAD left out."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            yield from walk_routes(contexts() if callable(contexts) else contexts)
        elif getattr(route, "methods", None) and getattr(route, "path", ""):
            for method in sorted(set(route.methods) - {"HEAD"}):
                yield method, route.path
        elif hasattr(route, "routes"):
            yield from walk_routes(route.routes)
