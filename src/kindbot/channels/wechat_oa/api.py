"""The Official Account server API: stable access tokens and customer-service messages.

Only the sanctioned endpoints: ``POST /cgi-bin/stable_token`` and
``POST /cgi-bin/message/custom/send``. Error handling follows the documented
codes: 40001/40014/42001 → refresh the token and retry once; 45015 → the
contact's service window is closed (or they unfollowed); 45047 → the window's
message quota is used; 45009 → API quota, back off; network errors and 5xx →
retry with backoff. Deciding what a code means is a pure function
(:func:`outcome_for`), table-tested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from kindbot.core.events import DeliveryOutcome, DeliveryStatus
from kindbot.core.ports.seams import TokenSource
from kindbot.core.records.platform import IssuedToken

KIND = "wechat_oa"
TOKEN_REJECTED = frozenset({40001, 40014, 42001})
WINDOW_CLOSED = 45015
QUOTA_USED = 45047
API_QUOTA = 45009


class WeChatApiError(Exception):
    """The platform answered with a non-zero ``errcode``."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


@dataclass(frozen=True, slots=True)
class OAApiConfig:
    """What the API client needs of a channel's configuration."""

    app_id: str
    app_secret: str
    api_base: str

    @property
    def token_key(self) -> str:
        """The shared-token key of this app."""
        return f"{KIND}:{self.app_id}"


def outcome_for(errcode: int, errmsg: str) -> DeliveryOutcome:
    """What a custom-send ``errcode`` means for the delivery (token errors are handled before)."""
    if errcode == 0:
        return DeliveryOutcome(DeliveryStatus.DELIVERED)
    detail = f"{errcode} {errmsg}"
    if errcode == WINDOW_CLOSED:
        return DeliveryOutcome(DeliveryStatus.FAILED, f"window closed or unfollowed: {detail}")
    if errcode == QUOTA_USED:
        return DeliveryOutcome(DeliveryStatus.FAILED, f"window quota used: {detail}")
    if errcode == API_QUOTA or errcode == -1:  # -1: system busy
        return DeliveryOutcome(DeliveryStatus.RETRY, f"platform busy or quota: {detail}")
    return DeliveryOutcome(DeliveryStatus.FAILED, detail)


def text_payload(openid: str, content: str) -> dict[str, Any]:
    """The custom-send body for a text message."""
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


def image_payload(openid: str, media_id: str) -> dict[str, Any]:
    """The custom-send body for an image already uploaded as ``media_id``."""
    return {"touser": openid, "msgtype": "image", "image": {"media_id": media_id}}


@dataclass(frozen=True, slots=True)
class NewsArticle:
    """One card of a news message (the platform shows one per message since 2018)."""

    title: str
    description: str
    url: str
    picurl: str


def news_payload(openid: str, article: NewsArticle) -> dict[str, Any]:
    """The custom-send body for a news (link card) message."""
    card = {
        "title": article.title,
        "description": article.description,
        "url": article.url,
        "picurl": article.picurl,
    }
    return {"touser": openid, "msgtype": "news", "news": {"articles": [card]}}


async def _post_json(http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(
        url,
        content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict):
        raise WeChatApiError(-1, "response is not a JSON object")
    return data


async def fetch_stable_token(
    http: httpx.AsyncClient, config: OAApiConfig, *, force_refresh: bool, now: datetime
) -> IssuedToken:
    """Ask ``stable_token`` for the app's token; raises :class:`WeChatApiError` on refusal."""
    data = await _post_json(
        http,
        f"{config.api_base}/cgi-bin/stable_token",
        {
            "grant_type": "client_credential",
            "appid": config.app_id,
            "secret": config.app_secret,
            "force_refresh": force_refresh,
        },
    )
    if "access_token" not in data:
        raise WeChatApiError(int(data.get("errcode", -1)), str(data.get("errmsg", "")))
    return IssuedToken(str(data["access_token"]), now + timedelta(seconds=int(data["expires_in"])))


class OAClient:
    """Customer-service sends for one app, with shared tokens and one retry on token errors."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: TokenSource,
        config: OAApiConfig,
        *,
        tenant_id: str,
        now: datetime,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._config = config
        self._tenant_id = tenant_id
        self._now = now

    async def _fetch(self, force: bool) -> IssuedToken:
        return await fetch_stable_token(
            self._http, self._config, force_refresh=force, now=self._now
        )

    async def _token(self, stale: str | None = None) -> str:
        return await self._tokens.token(
            tenant_id=self._tenant_id, key=self._config.token_key, fetch=self._fetch, stale=stale
        )

    async def send(self, payload: dict[str, Any]) -> DeliveryOutcome:
        """Send one customer-service message; never raises for platform or network failures."""
        try:
            token = await self._token()
            data = await self._custom_send(token, payload)
            if int(data.get("errcode", 0)) in TOKEN_REJECTED:
                data = await self._custom_send(await self._token(stale=token), payload)
        except WeChatApiError as exc:
            return DeliveryOutcome(DeliveryStatus.RETRY, f"token: {exc}")
        except httpx.HTTPError as exc:
            return DeliveryOutcome(DeliveryStatus.RETRY, f"network: {exc!r}")
        return outcome_for(int(data.get("errcode", 0)), str(data.get("errmsg", "")))

    async def _custom_send(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        url = f"{self._config.api_base}/cgi-bin/message/custom/send?access_token={token}"
        return await _post_json(self._http, url, payload)
