"""The WeCom callback: encrypted URL verification, and POSTs answered with an empty 200.

GET returns the decrypted ``echostr`` (plain text, nothing added). POST opens
the callback (``msg_signature``, timestamp skew, decryption; XML or JSON
envelope), parses it, refuses a nonce replayed with other content, and then:

- ``kf_msg_or_event`` for the channel's ``open_kfid``: a 微信客服 pull is spawned
  as an owned job (:meth:`kindbot.pipeline.receive.wecom_pulls.WeComService.pull_kf`);
  notifications for other accounts are ignored;
- ``add_external_contact`` with a WelcomeCode, when the channel has a
  ``welcome`` and the code is still valid: the welcome job is spawned (it
  feeds the event and hands the guard-checked welcome over);
- anything else: fed to the pipeline (``sync_grace=None``, replies go out
  through the API via the outbox) as an owned job, waited for at most
  :data:`FEED_BUDGET_S` so that the message is normally stored before WeCom
  gets its answer, yet the answer never waits for a slow reply.

The answer is always an empty 200: WeCom apps reply through the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from fastapi import Request, Response
from fastapi.responses import PlainTextResponse

from kindbot.bootstrap import Container
from kindbot.channels.wecom import codec
from kindbot.channels.wecom.config import WeComChannelConfig
from kindbot.channels.wecom.messages import (
    AppMessage,
    ExternalContactEvent,
    KfNotifyEvent,
    dedupe_key,
    parse_message,
    to_inbound_event,
)
from kindbot.core.errors import SignatureError
from kindbot.pipeline.directory import ResolvedChannel
from kindbot.pipeline.receive.wecom_pulls import welcome_code_to_use

log = logging.getLogger(__name__)

FEED_BUDGET_S = 3.0
"""How long a POST waits for the pipeline before answering anyway (WeCom waits 5 s)."""


def verify(resolved: ResolvedChannel, request: Request) -> Response:
    """URL verification: the decrypted ``echostr`` when ``msg_signature`` matches."""
    config = WeComChannelConfig.model_validate_json(resolved.config).codec()
    return PlainTextResponse(codec.verify_url(config, dict(request.query_params)))


async def receive(
    container: Container, resolved: ResolvedChannel, request: Request, body: bytes
) -> Response:
    """Handle one callback POST; the answer is an empty 200 (or the codec's 4xx)."""
    config = WeComChannelConfig.model_validate_json(resolved.config)
    query = dict(request.query_params)
    now = container.clock.now()
    opened = codec.open_callback(config.codec(), query, body, now=int(now.timestamp()))
    message = parse_message(opened.fields)
    await _refuse_replayed_nonce(container, resolved, query, dedupe_key(message))
    if isinstance(message, KfNotifyEvent):
        _pull(container, resolved, config, message)
    else:
        await _feed(container, resolved, config, message)
    return Response(status_code=200)


async def _refuse_replayed_nonce(
    container: Container, resolved: ResolvedChannel, query: Mapping[str, str], key: str
) -> None:
    async with container.store.transaction() as tx:
        first = await tx.nonces.remember(
            tenant_id=resolved.tenant.id,
            channel_id=resolved.channel.id,
            nonce=query["nonce"],
            timestamp=query["timestamp"],
            fingerprint=key,
            now=container.clock.now(),
        )
    if first != key:
        raise SignatureError("nonce was already used for another message", code="replayed_nonce")


def _pull(
    container: Container,
    resolved: ResolvedChannel,
    config: WeComChannelConfig,
    notice: KfNotifyEvent,
) -> None:
    if notice.open_kfid != config.open_kfid:
        log.info(
            "channel %s ignores 微信客服 account %s (configured: %s)",
            resolved.channel.public_id,
            notice.open_kfid,
            config.open_kfid,
        )
        return
    container.supervisor.spawn(
        f"kf-pull:{resolved.channel.public_id}:{notice.open_kfid}",
        container.wecom.pull_kf(resolved, notice.open_kfid, notice.token or None),
    )


async def _feed(
    container: Container, resolved: ResolvedChannel, config: WeComChannelConfig, msg: AppMessage
) -> None:
    now = container.clock.now()
    event = to_inbound_event(msg, channel_public_id=resolved.channel.public_id, received_at=now)
    if isinstance(msg, ExternalContactEvent) and config.welcome:
        code = welcome_code_to_use(msg, welcome=config.welcome, now=now)
        if code is not None:
            container.supervisor.spawn(
                f"welcome:{event.idempotency_key}",
                container.wecom.welcome(resolved, event, code, config.welcome),
            )
            return
    job = container.supervisor.spawn(
        f"feed:{event.idempotency_key}",
        container.pipeline.feed(event, sync_grace=None, resolved=resolved, verified=True),
    )
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(job), timeout=FEED_BUDGET_S)
