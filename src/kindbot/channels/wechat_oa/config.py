"""An Official Account channel's settings (stored sealed; secrets included)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from kindbot.channels.wechat_oa.api import OAApiConfig
from kindbot.channels.wechat_oa.codec import Mode, OAConfig

DEFAULT_API_BASE = "https://api.weixin.qq.com"


@dataclass(frozen=True, slots=True)
class OAChannelConfig:
    """Everything the bundle says about one Official Account channel.

    ``reply_budget`` is how long (seconds) the callback waits for a passive
    reply before answering ``success`` and delivering through the API;
    ``max_clock_skew`` bounds the callback timestamp (0 disables the check);
    ``welcome`` is sent (through the guard) when someone follows.
    """

    app_id: str
    app_secret: str
    token: str
    mode: Mode = "plain"
    encoding_aes_key: str | None = None
    previous_encoding_aes_key: str | None = None
    api_base: str = DEFAULT_API_BASE
    reply_budget: float = 4.0
    max_clock_skew: int = 300
    welcome: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> OAChannelConfig:
        return cls(**json.loads(raw))

    def api(self) -> OAApiConfig:
        """The API client's view of this configuration."""
        return OAApiConfig(self.app_id, self.app_secret, self.api_base.rstrip("/"))

    def codec(self) -> OAConfig:
        """The callback codec's view (validates the keys and the mode)."""
        return OAConfig(
            token=self.token,
            app_id=self.app_id,
            encoding_aes_key=self.encoding_aes_key,
            previous_encoding_aes_key=self.previous_encoding_aes_key,
            mode=self.mode,
            max_clock_skew=self.max_clock_skew,
        )
