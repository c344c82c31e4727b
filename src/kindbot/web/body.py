"""Reading request bodies with a hard size limit."""

from __future__ import annotations

from fastapi import Request

from kindbot.core.errors import PayloadTooLargeError

MAX_BODY_BYTES = 64 * 1024


async def read_limited_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, or :class:`PayloadTooLargeError` as soon as it passes ``limit``.

    A declared Content-Length over the limit is refused before reading.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"body exceeds {limit // 1024} KiB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"body exceeds {limit // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)
