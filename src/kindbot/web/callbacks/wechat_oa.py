"""The Official Account callback: verify, race the reply budget, answer passively or ``success``.

GET answers WeChat's URL verification. POST opens the callback (signature,
timestamp, decryption), refuses replayed nonces, feeds the pipeline through
:func:`kindbot.pipeline.handover.deadline.feed_before_deadline` and answers with a
passive text reply (sealed when the request was encrypted), recorded as
delivered only after the response was sent (:mod:`kindbot.web.callbacks.handover`) — or,
when the budget ran out or the reply was already handed over, the literal
``success`` while the reply goes out through the customer-service API.
"""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import PlainTextResponse

from kindbot.bootstrap import Container
from kindbot.channels.wechat_oa import codec
from kindbot.channels.wechat_oa.config import OAChannelConfig
from kindbot.channels.wechat_oa.messages import to_inbound_event
from kindbot.core.events import CallbackNonce, FeedResult
from kindbot.pipeline.directory import ResolvedChannel
from kindbot.pipeline.handover.deadline import feed_before_deadline
from kindbot.web.callbacks.handover import HandoverResponse

SUCCESS = "success"
PASSIVE_REPLIES = 1
"""A passive reply carries one message; any others go through the customer-service API."""


def verify(resolved: ResolvedChannel, request: Request) -> Response:
    """URL verification: echo ``echostr`` when the signature matches."""
    config = OAChannelConfig.model_validate_json(resolved.config).codec()
    echo = codec.verify_url(config, dict(request.query_params))
    return PlainTextResponse(echo)


async def receive(
    container: Container, resolved: ResolvedChannel, request: Request, body: bytes
) -> Response:
    """Handle one message push within the channel's reply budget."""
    channel_config = OAChannelConfig.model_validate_json(resolved.config)
    config = channel_config.codec()
    now = container.clock.now()
    opened = codec.open_callback(config, dict(request.query_params), body, now=int(now.timestamp()))
    event = to_inbound_event(
        opened.message, channel_public_id=resolved.channel.public_id, received_at=now
    )
    result = await feed_before_deadline(
        container.pipeline,
        container.supervisor,
        event,
        channel_config.reply_budget,
        resolved,
        CallbackNonce(opened.nonce, opened.timestamp),
        take=PASSIVE_REPLIES,
    )
    if result is None:
        return PlainTextResponse(SUCCESS)
    return await _passive_reply(container, config, opened, result)


async def _passive_reply(
    container: Container, config: codec.OAConfig, opened: codec.OpenedCallback, result: FeedResult
) -> Response:
    # What feed took for this request, else (a retry: the earlier answer never
    # arrived) a claim of the reply an earlier attempt did not get out.
    handover = await container.pipeline.claim_for_passive(result, limit=PASSIVE_REPLIES)
    if not handover.replies:
        return PlainTextResponse(SUCCESS)
    message = opened.message
    xml = codec.render_text_reply(
        to_user=message.from_user,
        from_user=message.to_user,
        content=handover.replies[0].text,
        create_time=int(container.clock.now().timestamp()),
    )
    if opened.encrypted and opened.key is not None:
        xml = codec.seal_reply(
            xml, config=config, key=opened.key, timestamp=opened.timestamp, nonce=opened.nonce
        )
    # Delivered only once the response was sent (else the outbox sends it).
    passive = Response(xml, media_type="application/xml")
    return HandoverResponse(passive, container.settlements, handover)
