"""Server-sent events of a tenant's inbox, shared by the REST API and the dashboard."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import asdict

from fastapi.responses import StreamingResponse

from kindbot.pipeline.live.bus import InboxBus

KEEPALIVE_S = 15.0
"""A comment line is sent this often while idle (proxies keep the stream open)."""


async def inbox_events(bus: InboxBus, tenant_id: str) -> AsyncIterator[str]:
    """``: connected``, then each of the tenant's inbox events as ``event:``/``data:`` lines."""
    queue = bus.subscribe(tenant_id)
    try:
        yield ": connected\n\n"
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            data = json.dumps(asdict(event), ensure_ascii=False)
            yield f"event: {event.kind}\ndata: {data}\n\n"
    finally:
        bus.unsubscribe(tenant_id, queue)


def event_stream(bus: InboxBus, tenant_id: str) -> StreamingResponse:
    """The tenant's inbox events as a ``text/event-stream`` response (not buffered by proxies)."""
    return StreamingResponse(
        inbox_events(bus, tenant_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
