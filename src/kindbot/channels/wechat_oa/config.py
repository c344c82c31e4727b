"""An Official Account channel's settings (stored sealed; secrets included)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from kindbot.channels.config import AES_KEY, ApiBase, ChannelConfig
from kindbot.channels.wechat_oa.api import OAApiConfig
from kindbot.channels.wechat_oa.codec import OAConfig
from kindbot.core.windows import WECHAT_WINDOW, WindowPolicy

DEFAULT_API_BASE = "https://api.weixin.qq.com"


class OAChannelConfig(ChannelConfig):
    """Everything the bundle says about one Official Account channel.

    ``mode`` is the account's 消息加解密方式 and must match the account's
    console. It defaults to ``safe`` (安全模式) in the bundle and at run time
    alike: WeChat's documentation recommends it (明文 and 兼容 are "not
    recommended"), it fails closed (plaintext posts are refused, and a bundle
    without ``encoding_aes_key`` is refused rather than silently accepting
    unencrypted traffic), and it is what every bundle applied so far stored
    (the bundle already defaulted to it and the stored JSON always names the
    mode), so no stored channel changes behaviour. Choose ``plain`` or
    ``compatible`` explicitly when the account's console says so.

    ``reply_budget`` is how long (seconds) the callback waits for a passive
    reply before answering ``success`` and delivering through the API (0:
    always through the API; bundles ask for at least 0.5, see
    :data:`MIN_BUNDLE_REPLY_BUDGET`); ``max_clock_skew`` bounds the callback
    timestamp (0 disables the check); ``welcome`` is sent (through the guard)
    when someone follows.
    """

    app_id: Annotated[str, Field(pattern=r"^wx[0-9a-zA-Z]{6,30}$")]
    app_secret: Annotated[str, Field(min_length=16, max_length=64)]
    token: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{3,32}$")]
    mode: Literal["plain", "compatible", "safe"] = "safe"
    encoding_aes_key: Annotated[str, Field(pattern=AES_KEY)] | None = None
    previous_encoding_aes_key: Annotated[str, Field(pattern=AES_KEY)] | None = None
    api_base: ApiBase = DEFAULT_API_BASE
    reply_budget: Annotated[float, Field(ge=0, le=4.5)] = 4.0
    max_clock_skew: Annotated[int, Field(ge=0, le=86400)] = 300
    welcome: Annotated[str, Field(max_length=600)] | None = None

    @model_validator(mode="after")
    def _key_for_encrypted_modes(self) -> OAChannelConfig:
        if self.mode != "plain" and self.encoding_aes_key is None:
            raise ValueError(f"mode {self.mode!r} needs encoding_aes_key (43 characters)")
        return self

    def window(self, contact_external_id: str) -> WindowPolicy | None:
        """WeChat's customer-service window, for every follower."""
        return WECHAT_WINDOW

    def welcome_text(self) -> str | None:
        """``welcome``: proposed as the reply to a follow."""
        return self.welcome

    def configured_urls(self) -> dict[str, str]:
        """``api_base``, when the configuration sets it (the default is WeChat's own API)."""
        return {"api_base": self.api_base} if "api_base" in self.model_fields_set else {}

    def api(self) -> OAApiConfig:
        """The API client's view of this configuration."""
        return OAApiConfig(self.app_id, self.app_secret, self.api_base)

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


MIN_BUNDLE_REPLY_BUDGET = 0.5
"""A bundle's smallest ``reply_budget``: below it a passive reply is never ready in time."""
