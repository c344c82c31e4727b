"""Response headers of every dashboard page: a strict CSP, no framing, no sniffing, no caching.

The CSP allows scripts and styles only from the server's own origin (no
inline scripts), so an injected ``<script>`` never runs.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)
PAGE_PREFIXES = ("/login", "/logout", "/account", "/dashboard", "/admin", "/invite")
"""Paths the headers apply to (and ``/`` itself)."""


def is_dashboard_path(path: str) -> bool:
    """True for the dashboard's pages (``/``, and paths under :data:`PAGE_PREFIXES`)."""
    return path == "/" or any(
        path == prefix or path.startswith(prefix + "/") for prefix in PAGE_PREFIXES
    )


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` to the dashboard's HTTP responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_dashboard_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
