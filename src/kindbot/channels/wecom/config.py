"""A WeCom channel's settings (stored sealed; secrets included)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from kindbot.channels.config import AES_KEY, ApiBase, ChannelConfig
from kindbot.channels.wecom.api import WeComApiConfig
from kindbot.channels.wecom.codec import WeComConfig
from kindbot.channels.wecom.messages import MEMBER_PREFIX
from kindbot.core.windows import WECHAT_WINDOW, WindowPolicy

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"


class WeComChannelConfig(ChannelConfig):
    """Everything the bundle says about one WeCom self-built app (自建应用).

    The app's callback carries member messages and events, customer-contact
    events (``change_external_contact``) and 微信客服 notifications
    (``kf_msg_or_event``); ``secret`` is the app's secret, used for every API
    call. ``open_kfid`` names the 微信客服 account this channel serves (none:
    微信客服 is off and its notifications are ignored). ``welcome`` is sent,
    through the guard, to a customer who just added a member
    (``send_welcome_msg``, with the event's one-time WelcomeCode: not the
    pipeline's follow welcome). ``max_clock_skew`` bounds callback timestamps
    (seconds; 0 disables the check).
    """

    corp_id: Annotated[str, Field(pattern=r"^w[wx][0-9A-Za-z]{6,30}$")]
    agent_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    secret: Annotated[str, Field(min_length=16, max_length=128)]
    token: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{3,32}$")]
    encoding_aes_key: Annotated[str, Field(pattern=AES_KEY)]
    previous_encoding_aes_key: Annotated[str, Field(pattern=AES_KEY)] | None = None
    api_base: ApiBase = DEFAULT_API_BASE
    max_clock_skew: Annotated[int, Field(ge=0, le=86400)] = 300
    open_kfid: Annotated[str, Field(pattern=r"^[0-9A-Za-z_-]{1,64}$")] | None = None
    welcome: Annotated[str, Field(min_length=1, max_length=600)] | None = None

    @model_validator(mode="after")
    def _keys_differ(self) -> WeComChannelConfig:
        if self.previous_encoding_aes_key == self.encoding_aes_key:
            raise ValueError("previous_encoding_aes_key must differ from encoding_aes_key")
        return self

    def window(self, contact_external_id: str) -> WindowPolicy | None:
        """Members (employees, ``member:`` ids): none; 微信客服 customers: WeChat's."""
        return None if contact_external_id.startswith(MEMBER_PREFIX) else WECHAT_WINDOW

    def welcome_text(self) -> str | None:
        """None: WeCom's ``welcome`` is handed over with a WelcomeCode by
        :meth:`kindbot.channels.wecom.adapter.WeComAdapter.send_welcome`, not
        proposed by the pipeline on a follow."""
        return None

    def configured_urls(self) -> dict[str, str]:
        """``api_base``, when the configuration sets it (the default is WeChat's own API)."""
        return {"api_base": self.api_base} if "api_base" in self.model_fields_set else {}

    def api(self) -> WeComApiConfig:
        """The API client's view of this configuration."""
        return WeComApiConfig(
            corp_id=self.corp_id,
            agent_id=self.agent_id,
            secret=self.secret,
            api_base=self.api_base,
        )

    def codec(self) -> WeComConfig:
        """The callback codec's view (validates the keys and the token)."""
        return WeComConfig(
            token=self.token,
            corp_id=self.corp_id,
            encoding_aes_key=self.encoding_aes_key,
            previous_encoding_aes_key=self.previous_encoding_aes_key,
            max_clock_skew=self.max_clock_skew,
        )
