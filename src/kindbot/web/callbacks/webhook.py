"""The JSON webhook callback: signed JSON in, the replies in the JSON response.

Replies that do not fit the response (or come later) are posted to the
channel's ``outgoing_url`` by the outbox worker.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from kindbot.bootstrap import Container
from kindbot.channels import webhook
from kindbot.pipeline.directory import ResolvedChannel
from kindbot.web.callbacks.handover import HandoverResponse

SYNC_GRACE = timedelta(seconds=30)
SYNC_REPLIES = 20
"""At most this many replies travel in a webhook response; any others go to ``outgoing_url``."""


async def receive(
    container: Container, resolved: ResolvedChannel, request: Request, body: bytes
) -> Response:
    """Verify the signature, feed the message, answer with the replies ready in time."""
    config = webhook.WebhookConfig.model_validate_json(resolved.config)
    webhook.verify_signature(config.secret, body, request.headers.get(webhook.SIGNATURE_HEADER))
    event = webhook.parse(
        body, channel_public_id=resolved.channel.public_id, now=container.clock.now()
    )
    # Without an ``id`` the caller cannot retry: an unconfirmed hand-over is sent.
    retries = webhook.caller_retries(event)
    result = await container.pipeline.feed(
        event,
        sync_grace=SYNC_GRACE,
        resolved=resolved,
        take=SYNC_REPLIES,
        retries=retries,
        verified=True,
    )
    # The replies are claimed for this response (a retry: claimed again, and
    # those an earlier response carried are listed again) and recorded as
    # delivered only once it was sent; else the outbox posts them to outgoing_url.
    handover = await container.pipeline.claim_for_passive(result, SYNC_REPLIES, echo=True)
    answer = webhook.render_response(replace(result, replies=handover.replies))
    return HandoverResponse(JSONResponse(answer), container.settlements, handover)
