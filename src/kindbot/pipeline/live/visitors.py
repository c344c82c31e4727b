"""Live web chat connections of this process: who is listening for which visitor.

Each open WebSocket registers a queue; pushing a frame puts it on every
queue of that visitor (several tabs). Queues are bounded so that a stalled
browser cannot grow memory without limit: when one is full, that socket is
closed by its handler and the visitor reloads history on reconnect.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

QUEUE_SIZE = 100
Frame = dict[str, Any]


class VisitorHub:
    """In-process registry of web chat sockets (implements ``VisitorPush``)."""

    def __init__(self) -> None:
        self._queues: defaultdict[tuple[str, str], set[asyncio.Queue[Frame]]] = defaultdict(set)

    def register(self, channel_public_id: str, visitor_id: str) -> asyncio.Queue[Frame]:
        """A new queue that receives the visitor's frames until :meth:`unregister`."""
        queue: asyncio.Queue[Frame] = asyncio.Queue(QUEUE_SIZE)
        self._queues[(channel_public_id, visitor_id)].add(queue)
        return queue

    def unregister(
        self, channel_public_id: str, visitor_id: str, queue: asyncio.Queue[Frame]
    ) -> None:
        key = (channel_public_id, visitor_id)
        self._queues[key].discard(queue)
        if not self._queues[key]:
            del self._queues[key]

    async def push(self, channel_public_id: str, visitor_id: str, frame: Frame) -> int:
        """Queue ``frame`` for each of the visitor's sockets; returns how many took it."""
        taken = 0
        for queue in list(self._queues.get((channel_public_id, visitor_id), ())):
            try:
                queue.put_nowait(frame)
                taken += 1
            except asyncio.QueueFull:
                continue
        return taken

    @property
    def connections(self) -> int:
        """Open sockets in this process."""
        return sum(len(q) for q in self._queues.values())
