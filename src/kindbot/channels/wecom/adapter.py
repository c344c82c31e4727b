"""Delivering outbox items on a WeCom channel: app messages to members, 微信客服 to customers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import httpx

from kindbot.channels.wecom.api import KIND, WeComClient, client_msgid
from kindbot.channels.wecom.config import WeComChannelConfig
from kindbot.channels.wecom.kf import KfSyncPage
from kindbot.channels.wecom.messages import MEMBER_PREFIX, SYSTEM_SENDER
from kindbot.core.events import DeliveryOutcome, DeliveryRequest, DeliveryStatus
from kindbot.core.ports.seams import Clock, TokenSource


class RouteKind(StrEnum):
    """How a contact on a WeCom channel is reached."""

    MEMBER = "member"  # message/send from the app
    CUSTOMER = "customer"  # kf/send_msg from the channel's 微信客服 account
    NOBODY = "nobody"  # the platform itself ("sys")


@dataclass(frozen=True, slots=True)
class Route:
    """Where one contact address leads; ``target`` is the UserID or external_userid."""

    kind: RouteKind
    target: str


def route_for(address: str) -> Route:
    """The route of a contact address (see :mod:`kindbot.channels.wecom.messages`)."""
    if address.startswith(MEMBER_PREFIX):
        return Route(RouteKind.MEMBER, address[len(MEMBER_PREFIX) :])
    if not address or address == SYSTEM_SENDER:
        return Route(RouteKind.NOBODY, address)
    return Route(RouteKind.CUSTOMER, address)


class WeComAdapter:
    """The ``wecom`` :class:`kindbot.core.ports.seams.ChannelAdapter`.

    Members get an app message (``message/send``); external users get a
    微信客服 message from the channel's ``open_kfid`` with a client msgid
    derived from the outbox id, so a resend after a lost answer is not
    delivered twice. An external user on a channel without ``open_kfid`` and
    the platform sender ``sys`` are ``FAILED`` with a reason. Welcome messages
    are not outbox deliveries: they need the event's one-time WelcomeCode, so
    the callback's job (``kindbot.pipeline.receive.wecom_pulls``) hands the
    guard-checked welcome over with :meth:`send_welcome`; its 微信客服 pulls
    read pages with :meth:`sync_kf`.
    """

    kind = KIND

    def __init__(self, http: httpx.AsyncClient, tokens: TokenSource, clock: Clock) -> None:
        self._http = http
        self._tokens = tokens
        self._clock = clock

    def _client(self, tenant_id: str, config: WeComChannelConfig) -> WeComClient:
        return WeComClient(
            self._http, self._tokens, config.api(), tenant_id=tenant_id, clock=self._clock
        )

    async def send_welcome(
        self, *, tenant_id: str, channel_config: str, welcome_code: str, text: str
    ) -> DeliveryOutcome:
        """Hand a welcome over with the event's one-time ``welcome_code``
        (``send_welcome_msg``); the caller has put ``text`` through the guard."""
        config = WeComChannelConfig.model_validate_json(channel_config)
        client = self._client(tenant_id, config)
        return await client.send_welcome(welcome_code=welcome_code, content=text)

    async def sync_kf(
        self,
        *,
        tenant_id: str,
        channel_config: str,
        cursor: str | None,
        token: str | None,
        open_kfid: str,
        limit: int,
    ) -> KfSyncPage:
        """One ``kf/sync_msg`` page for ``open_kfid`` after ``cursor`` (see
        :meth:`kindbot.channels.wecom.api.WeComClient.sync_msg`; raises its errors)."""
        config = WeComChannelConfig.model_validate_json(channel_config)
        client = self._client(tenant_id, config)
        return await client.sync_msg(cursor=cursor, token=token, open_kfid=open_kfid, limit=limit)

    async def deliver(self, request: DeliveryRequest) -> DeliveryOutcome:
        config = WeComChannelConfig.model_validate_json(request.channel_config)
        route = route_for(request.recipient)
        if route.kind is RouteKind.NOBODY:
            return DeliveryOutcome(
                DeliveryStatus.FAILED, f"{request.recipient!r} is the platform, not a person"
            )
        if route.kind is RouteKind.CUSTOMER and not config.open_kfid:
            return DeliveryOutcome(
                DeliveryStatus.FAILED,
                f"external user {route.target!r} can only be reached through 微信客服, "
                "and this channel has no open_kfid",
            )
        client = self._client(request.tenant_id, config)
        if route.kind is RouteKind.MEMBER:
            return await client.send_app_text(userid=route.target, content=request.text)
        assert config.open_kfid is not None
        return await client.send_kf_text(
            touser=route.target,
            open_kfid=config.open_kfid,
            content=request.text,
            msgid=client_msgid(request.outbox_id),
        )
