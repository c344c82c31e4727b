"""Channel callbacks: ``/channels/{channel_id}/callback``, dispatched by channel kind.

The handlers of each kind live beside this module (:mod:`.webhook`,
:mod:`.wechat_oa`, :mod:`.wecom`); :data:`RECEIVERS` and :data:`VERIFIERS`
key them by the kinds of :mod:`kindbot.channels.registry` (a test checks that
they cover exactly the kinds that take callbacks and verify their URL).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, Request, Response

from kindbot.bootstrap import Container
from kindbot.channels import webhook as webhook_channel
from kindbot.channels.wechat_oa.api import KIND as WECHAT_OA
from kindbot.channels.wecom.api import KIND as WECOM
from kindbot.core.edge import check_public_id
from kindbot.core.errors import ChannelChangedError, NotFoundError, SignatureError
from kindbot.pipeline.directory import ResolvedChannel
from kindbot.web.body import read_limited_body
from kindbot.web.callbacks import webhook, wechat_oa, wecom
from kindbot.web.deps import container_of
from kindbot.web.errors import PLATFORM_CALLBACK
from kindbot.web.ratelimit import limit_callback

router = APIRouter()

Receive = Callable[[Container, ResolvedChannel, Request, bytes], Awaitable[Response]]
"""Handles one callback POST of a channel."""
Verify = Callable[[ResolvedChannel, Request], Response]
"""Answers a platform's GET verification of the callback URL."""

RECEIVERS: Mapping[str, Receive] = {
    webhook_channel.KIND: webhook.receive,
    WECHAT_OA: wechat_oa.receive,
    WECOM: wecom.receive,
}
"""The POST handler of every kind that takes callbacks."""

VERIFIERS: Mapping[str, Verify] = {
    WECHAT_OA: wechat_oa.verify,
    WECOM: wecom.verify,
}
"""The GET handler of every kind whose platform verifies the callback URL."""


def _not_a_callback(channel_id: str) -> NotFoundError:
    return NotFoundError(f"channel {channel_id!r} does not take callbacks", code="unknown_channel")


@router.get("/channels/{channel_id}/callback", tags=["channels"])
async def channel_verification(channel_id: str, request: Request) -> Response:
    """Platform URL verification (OA: echo ``echostr``; WeCom: its decryption; if signed)."""
    setattr(request.state, PLATFORM_CALLBACK, True)
    resolved = await container_of(request).directory.by_public_id(check_public_id(channel_id))
    verify = VERIFIERS.get(resolved.channel.kind)
    if verify is None:
        raise _not_a_callback(channel_id)
    await limit_callback(request, resolved)
    return verify(resolved, request)


@router.post("/channels/{channel_id}/callback", tags=["channels"])
async def channel_callback(channel_id: str, request: Request) -> Response:
    """A message from the channel's platform.

    Webhook: JSON in, replies in the JSON response. WeChat OA: XML in, a passive
    reply or ``success``. WeCom: an encrypted envelope in, an empty 200. Errors:
    404 ``unknown_channel``, 403 signature codes, 400 ``invalid_json``/``invalid_xml``/
    field codes, 413 ``payload_too_large``; overloaded: 503 without a body (the
    platform retries; ``kindbot.web.errors``).
    """
    setattr(request.state, PLATFORM_CALLBACK, True)
    container = container_of(request)
    body = await read_limited_body(request)
    public_id = check_public_id(channel_id)
    # What this process remembers of the channel; the message's store transaction
    # checks it against the tenant's revision (pipeline/tenant_cache.py).
    resolved = await container.directory.by_public_id(public_id, cached=True)
    receive = RECEIVERS.get(resolved.channel.kind)
    if receive is None:
        raise _not_a_callback(channel_id)
    await limit_callback(request, resolved)
    try:
        return await receive(container, resolved, request, body)
    except (SignatureError, ChannelChangedError) as exc:
        # Verified with a configuration that is no longer current (a rotated token):
        # once more with the stored one before refusing.
        current = await container.directory.by_public_id(public_id)
        if isinstance(exc, SignatureError) and current.config == resolved.config:
            raise
        receive = RECEIVERS.get(current.channel.kind)
        if receive is None:
            raise _not_a_callback(channel_id) from None
        return await receive(container, current, request, body)
