"""Delivering outbox items on a WeCom channel: app messages to members, 微信客服 to customers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import httpx

from kindbot.channels.wecom.api import KIND, WeComClient, client_msgid
from kindbot.channels.wecom.config import WeComChannelConfig
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
    are not delivered here: they need the event's one-time WelcomeCode, which
    the callback's job hands over itself (``kindbot.pipeline.receive.wecom_pulls``).
    """

    kind = KIND

    def __init__(self, http: httpx.AsyncClient, tokens: TokenSource, clock: Clock) -> None:
        self._http = http
        self._tokens = tokens
        self._clock = clock

    async def deliver(self, request: DeliveryRequest) -> DeliveryOutcome:
        config = WeComChannelConfig.from_json(request.channel_config)
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
        client = WeComClient(
            self._http, self._tokens, config.api(), tenant_id=request.tenant_id, clock=self._clock
        )
        if route.kind is RouteKind.MEMBER:
            return await client.send_app_text(userid=route.target, content=request.text)
        assert config.open_kfid is not None
        return await client.send_kf_text(
            touser=route.target,
            open_kfid=config.open_kfid,
            content=request.text,
            msgid=client_msgid(request.outbox_id),
        )
