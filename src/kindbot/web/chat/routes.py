"""The web chat channel: page, info, history, WebSocket and POST fallback.

Protocol (spoken by ``static/chat.js``): the page sets an HttpOnly visitor
cookie scoped to ``/chat/{channel_id}``; the socket takes
``{"type": "message", "text", "client_id"}`` and sends
``{"type": "message", "message": {...}, "client_id"}`` frames (the stored
inbound echo first, then each reply) and ``{"type": "error", "code", "message"}``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse

from kindbot.bootstrap import Container
from kindbot.channels import webchat
from kindbot.core.edge import check_public_id, load_json
from kindbot.core.errors import BadRequestError, KindbotError, NotFoundError, StorageBusyError
from kindbot.core.events import FeedResult
from kindbot.pipeline.directory import ResolvedChannel
from kindbot.web.body import read_limited_body
from kindbot.web.deps import container_of
from kindbot.web.errors import log_storage_busy
from kindbot.web.ratelimit import WebchatMessageLimit, admit_socket, limit_socket_frame

router = APIRouter()

SYNC_GRACE = timedelta(seconds=30)
HISTORY_LIMIT = 200
COOKIE_MAX_AGE = 365 * 24 * 3600
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'"
    ),
}


async def _webchat(
    container: Container, channel_id: str, *, cached: bool = False
) -> ResolvedChannel:
    """The web chat channel; ``cached``: as this process remembers it (for a message,
    whose store transaction checks it against the tenant's revision)."""
    resolved = await container.directory.by_public_id(check_public_id(channel_id), cached=cached)
    if resolved.channel.kind != webchat.KIND:
        raise NotFoundError(f"channel {channel_id!r} is not a web chat", code="unknown_channel")
    return resolved


def same_origin(origin: str | None, host: str | None) -> bool:
    """True when a WebSocket handshake comes from a page of this server.

    Browsers always send ``Origin`` on WebSocket handshakes; refusing other
    origins stops a foreign page from speaking as the visitor (cross-site
    WebSocket hijacking). Non-browser clients that send no Origin are allowed.
    """
    if origin is None:
        return True
    return host is not None and origin.split("://", 1)[-1] == host


def _visitor(cookies: dict[str, str]) -> str | None:
    value = cookies.get(webchat.VISITOR_COOKIE)
    return value if webchat.valid_visitor_id(value) else None


@router.get("/chat/{channel_id}", response_class=HTMLResponse, tags=["webchat"])
async def chat_page(channel_id: str, request: Request) -> HTMLResponse:
    """The chat page; gives the visitor a cookie on first visit."""
    await _webchat(container_of(request), channel_id)
    page = resources.files("kindbot.web").joinpath("static/chat.html").read_text("utf-8")
    response = HTMLResponse(page, headers=PAGE_HEADERS)
    if _visitor(request.cookies) is None:
        response.set_cookie(
            webchat.VISITOR_COOKIE,
            webchat.new_visitor_id(),
            max_age=COOKIE_MAX_AGE,
            path=f"/chat/{channel_id}",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response


@router.get("/chat/{channel_id}/info", tags=["webchat"])
async def chat_info(channel_id: str, request: Request) -> dict[str, Any]:
    """Title, greeting and UI language of the chat."""
    resolved = await _webchat(container_of(request), channel_id)
    config = webchat.WebchatConfig.model_validate_json(resolved.config)
    return {
        "title": config.title or resolved.tenant.name,
        "greeting": config.greeting,
        "language": "zh" if resolved.tenant.language.startswith("zh") else "en",
    }


@router.get("/chat/{channel_id}/history", tags=["webchat"])
async def chat_history(channel_id: str, request: Request) -> dict[str, Any]:
    """The visitor's messages, oldest first (empty without a visitor cookie)."""
    container = container_of(request)
    resolved = await _webchat(container, channel_id)
    visitor = _visitor(request.cookies)
    if visitor is None:
        return {"messages": []}
    async with container.store.transaction(readonly=True) as tx:
        contact = await tx.contacts.find(resolved.channel.id, visitor)
        records = (
            await tx.messages.history_for_contact(contact.id, HISTORY_LIMIT) if contact else []
        )
    return {"messages": [webchat.record_frame(r) for r in records]}


def _frames(result: FeedResult, text: str, client_id: str) -> list[dict[str, Any]]:
    inbound = webchat.message_frame(result.inbound_message_id, "inbound", text, result.received_at)
    frames: list[dict[str, Any]] = [{"type": "message", "message": inbound, "client_id": client_id}]
    for reply in result.replies:
        message = webchat.message_frame(reply.message_id, "outbound", reply.text, reply.created_at)
        frames.append({"type": "message", "message": message, "client_id": None})
    return frames


async def _submit(
    container: Container, resolved: ResolvedChannel, visitor: str, data: Any
) -> list[dict[str, Any]]:
    channel_id = resolved.channel.public_id
    submission = webchat.parse_submission(data)
    event = webchat.to_event(
        submission, channel_public_id=channel_id, visitor_id=visitor, now=container.clock.now()
    )
    result = await container.pipeline.feed(event, sync_grace=SYNC_GRACE, resolved=resolved)
    frames = _frames(result, submission.text, submission.client_id)
    for frame in frames:
        await container.hub.push(channel_id, visitor, frame)
    await container.pipeline.mark_delivered(result)
    return frames


@router.post("/chat/{channel_id}/messages", tags=["webchat"])
async def chat_post(channel_id: str, request: Request, _: WebchatMessageLimit) -> dict[str, Any]:
    """Fallback when the WebSocket is unavailable: returns the echo and the replies."""
    container = container_of(request)
    body = await read_limited_body(request)
    resolved = await _webchat(container, channel_id, cached=True)
    visitor = _visitor(request.cookies)
    if visitor is None:
        raise BadRequestError("no visitor cookie: open the chat page first", code="no_visitor")
    frames = await _submit(container, resolved, visitor, load_json(body))
    return {"messages": [frame["message"] for frame in frames]}


@router.websocket("/chat/{channel_id}/ws")
async def chat_socket(websocket: WebSocket, channel_id: str) -> None:
    """Two owned tasks per socket: one reads submissions, one writes pushed frames."""
    container = container_of(websocket)
    visitor = _visitor(websocket.cookies)
    try:
        resolved = await _webchat(container, channel_id)
    except StorageBusyError as exc:
        log_storage_busy(f"chat socket {channel_id}", exc)
        await websocket.close(code=CLOSE_TRY_AGAIN_LATER, reason=exc.code)
        return
    except KindbotError:
        await websocket.close(code=4404)
        return
    if visitor is None:
        await websocket.close(code=4401)
        return
    if not same_origin(websocket.headers.get("origin"), websocket.headers.get("host")):
        await websocket.close(code=4403)
        return
    if not await admit_socket(websocket, resolved, visitor):
        return
    await websocket.accept()
    queue = container.hub.register(channel_id, visitor)
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(_read_loop(websocket, container, channel_id, visitor))
            group.create_task(_write_loop(websocket, queue))
    except* WebSocketDisconnect:
        pass
    finally:
        container.hub.unregister(channel_id, visitor, queue)


MAX_FRAME_BYTES = 64 * 1024
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_INVALID_PAYLOAD = 1007
CLOSE_TRY_AGAIN_LATER = 1013
_CLOSING_CODES = {"invalid_text": CLOSE_INVALID_PAYLOAD}
"""Frame errors that end the socket (with this close code) instead of an error frame."""


async def _receive_frame(websocket: WebSocket) -> str:
    """The next text frame; a binary frame closes the socket with 1003 (then disconnect)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if text is None:
        await websocket.close(CLOSE_UNSUPPORTED_DATA, "binary frames are not accepted")
        raise WebSocketDisconnect(CLOSE_UNSUPPORTED_DATA)
    return str(text)


async def _read_loop(
    websocket: WebSocket, container: Container, channel_id: str, visitor: str
) -> None:
    """Bad frames get an error frame and the socket stays open, except for text that
    is not storable (``invalid_text``): the socket is closed with 1007 and the code
    as the reason."""
    while True:
        raw = await _receive_frame(websocket)
        try:
            await limit_socket_frame(websocket, channel_id, visitor)
            if len(raw.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
                raise BadRequestError("frame exceeds 64 KiB", code="payload_too_large")
            data = load_json(raw, what="frame")
            # Resolved per frame from the process's cache; the message's store
            # transaction checks it (tenant status, channel settings are current).
            resolved = await _webchat(container, channel_id, cached=True)
            await _submit(container, resolved, visitor, data)
        except KindbotError as exc:
            if isinstance(exc, StorageBusyError):
                log_storage_busy(f"chat socket {channel_id}", exc)
            close_code = _CLOSING_CODES.get(exc.code)
            if close_code is not None:
                await websocket.close(close_code, exc.code)
                raise WebSocketDisconnect(close_code, exc.code) from exc
            await websocket.send_json({"type": "error", "code": exc.code, "message": exc.message})


async def _write_loop(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        await websocket.send_json(await queue.get())
