"""Delivering outbox items to Official Account followers (customer-service API)."""

from __future__ import annotations

import httpx

from kindbot.channels.wechat_oa.api import KIND, OAClient, text_payload
from kindbot.channels.wechat_oa.config import OAChannelConfig
from kindbot.core.events import DeliveryOutcome, DeliveryRequest
from kindbot.core.ports.seams import Clock, TokenSource


class OAAdapter:
    """The ``wechat_oa`` :class:`kindbot.core.ports.seams.ChannelAdapter`."""

    kind = KIND

    def __init__(self, http: httpx.AsyncClient, tokens: TokenSource, clock: Clock) -> None:
        self._http = http
        self._tokens = tokens
        self._clock = clock

    async def deliver(self, request: DeliveryRequest) -> DeliveryOutcome:
        config = OAChannelConfig.model_validate_json(request.channel_config).api()
        client = OAClient(
            self._http, self._tokens, config, tenant_id=request.tenant_id, now=self._clock.now()
        )
        return await client.send(text_payload(request.recipient, request.text))
