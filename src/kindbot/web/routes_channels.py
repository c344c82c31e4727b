"""Channel callbacks: ``POST /channels/{channel_id}/callback``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request

from kindbot.channels import webhook
from kindbot.errors import NotFoundError
from kindbot.web.body import read_limited_body
from kindbot.web.deps import container_of

router = APIRouter()

SYNC_GRACE = timedelta(seconds=30)


@router.post("/channels/{channel_id}/callback", tags=["channels"])
async def channel_callback(channel_id: str, request: Request) -> dict[str, Any]:
    """Webhook channel: verify the signature, run the pipeline, return the replies.

    Errors: 404 ``unknown_channel``, 403 ``missing_signature``/``bad_signature``,
    400 ``invalid_json``/``missing_field``/``invalid_field``, 413 ``payload_too_large``.
    """
    container = container_of(request)
    body = await read_limited_body(request)
    resolved = await container.directory.by_public_id(channel_id)
    if resolved.channel.kind != webhook.KIND:
        raise NotFoundError(
            f"channel {channel_id!r} does not take callbacks", code="unknown_channel"
        )
    config = webhook.WebhookConfig.from_json(resolved.config)
    webhook.verify_signature(config.secret, body, request.headers.get(webhook.SIGNATURE_HEADER))
    event = webhook.parse(body, channel_public_id=channel_id, now=container.clock.now())
    result = await container.pipeline.feed(event, sync_grace=SYNC_GRACE)
    await container.pipeline.mark_delivered(result)
    return webhook.render_response(result)
