"""A WeCom channel's settings (stored sealed; secrets included)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from kindbot.channels.wecom.api import WeComApiConfig
from kindbot.channels.wecom.codec import WeComConfig

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"


@dataclass(frozen=True, slots=True)
class WeComChannelConfig:
    """Everything the bundle says about one WeCom self-built app (自建应用).

    The app's callback carries member messages and events, customer-contact
    events (``change_external_contact``) and 微信客服 notifications
    (``kf_msg_or_event``); ``secret`` is the app's secret, used for every API
    call. ``open_kfid`` names the 微信客服 account this channel serves (none:
    微信客服 is off and its notifications are ignored). ``welcome`` is sent,
    through the guard, to a customer who just added a member
    (``send_welcome_msg``). ``max_clock_skew`` bounds callback timestamps
    (seconds; 0 disables the check).
    """

    corp_id: str
    agent_id: int
    secret: str
    token: str
    encoding_aes_key: str
    previous_encoding_aes_key: str | None = None
    api_base: str = DEFAULT_API_BASE
    max_clock_skew: int = 300
    open_kfid: str | None = None
    welcome: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> WeComChannelConfig:
        return cls(**json.loads(raw))

    def api(self) -> WeComApiConfig:
        """The API client's view of this configuration."""
        return WeComApiConfig(
            corp_id=self.corp_id,
            agent_id=self.agent_id,
            secret=self.secret,
            api_base=self.api_base.rstrip("/"),
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
