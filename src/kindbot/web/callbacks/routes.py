"""Channel callbacks: ``/channels/{channel_id}/callback`` (webhook, WeChat OA, WeCom)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from kindbot.bootstrap import Container
from kindbot.channels import webhook
from kindbot.channels.wechat_oa.api import KIND as WECHAT_OA
from kindbot.channels.wecom.api import KIND as WECOM
from kindbot.core.edge import check_public_id
from kindbot.core.errors import NotFoundError
from kindbot.pipeline.directory import ResolvedChannel
from kindbot.web.body import read_limited_body
from kindbot.web.callbacks import wechat_oa, wecom
from kindbot.web.callbacks.handover import HandoverResponse
from kindbot.web.deps import container_of
from kindbot.web.ratelimit import limit_callback

router = APIRouter()

SYNC_GRACE = timedelta(seconds=30)
SYNC_REPLIES = 20
"""At most this many replies travel in a webhook response; any others go to ``outgoing_url``."""


def _not_a_callback(channel_id: str) -> NotFoundError:
    return NotFoundError(f"channel {channel_id!r} does not take callbacks", code="unknown_channel")


@router.get("/channels/{channel_id}/callback", tags=["channels"])
async def channel_verification(channel_id: str, request: Request) -> Response:
    """Platform URL verification (OA: echo ``echostr``; WeCom: its decryption; if signed)."""
    resolved = await container_of(request).directory.by_public_id(check_public_id(channel_id))
    await limit_callback(request, resolved)
    if resolved.channel.kind == WECHAT_OA:
        return wechat_oa.verify(resolved, request)
    if resolved.channel.kind == WECOM:
        return wecom.verify(resolved, request)
    raise _not_a_callback(channel_id)


@router.post("/channels/{channel_id}/callback", tags=["channels"])
async def channel_callback(channel_id: str, request: Request) -> Response:
    """A message from the channel's platform.

    Webhook: JSON in, replies in the JSON response. WeChat OA: XML in, a passive
    reply or ``success``. WeCom: an encrypted envelope in, an empty 200. Errors:
    404 ``unknown_channel``, 403 signature codes, 400 ``invalid_json``/``invalid_xml``/
    field codes, 413 ``payload_too_large``.
    """
    container = container_of(request)
    body = await read_limited_body(request)
    resolved = await container.directory.by_public_id(check_public_id(channel_id))
    await limit_callback(request, resolved)
    if resolved.channel.kind == webhook.KIND:
        return await _webhook(container, resolved, request, body)
    if resolved.channel.kind == WECHAT_OA:
        return await wechat_oa.receive(container, resolved, request, body)
    if resolved.channel.kind == WECOM:
        return await wecom.receive(container, resolved, request, body)
    raise _not_a_callback(channel_id)


async def _webhook(
    container: Container, resolved: ResolvedChannel, request: Request, body: bytes
) -> Response:
    config = webhook.WebhookConfig.from_json(resolved.config)
    webhook.verify_signature(config.secret, body, request.headers.get(webhook.SIGNATURE_HEADER))
    event = webhook.parse(
        body, channel_public_id=resolved.channel.public_id, now=container.clock.now()
    )
    # Without an ``id`` the caller cannot retry: an unconfirmed hand-over is sent.
    retries = webhook.caller_retries(event)
    result = await container.pipeline.feed(
        event, sync_grace=SYNC_GRACE, resolved=resolved, take=SYNC_REPLIES, retries=retries
    )
    # The replies are claimed for this response (a retry: claimed again, and
    # those an earlier response carried are listed again) and recorded as
    # delivered only once it was sent; else the outbox posts them to outgoing_url.
    handover = await container.pipeline.claim_for_passive(result, SYNC_REPLIES, echo=True)
    answer = webhook.render_response(replace(result, replies=handover.replies))
    return HandoverResponse(JSONResponse(answer), container.pipeline, handover)
