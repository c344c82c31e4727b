"""The WeCom server API: ``gettoken``, 微信客服 sync/send, app messages, welcome messages.

Only sanctioned endpoints: ``GET /cgi-bin/gettoken``, ``POST /cgi-bin/kf/sync_msg``,
``POST /cgi-bin/kf/send_msg``, ``POST /cgi-bin/message/send`` and
``POST /cgi-bin/externalcontact/send_welcome_msg``. Tokens are shared through
a :class:`kindbot.core.ports.seams.TokenSource` under ``wecom:{corp_id}:{agent_id}``; a
call answered with 40014/42001 refetches the token once and is retried once.
What an ``errcode`` means for a delivery is the pure table :func:`outcome_for`;
network errors and HTTP errors are ``RETRY``. Sends never raise for platform
or network failures; :meth:`WeComClient.sync_msg` raises :class:`WeComApiError`
(or ``httpx.HTTPError``) because a pull has no outcome to report.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from kindbot.channels.wecom.kf import MAX_SYNC_LIMIT, KfSyncPage, parse_sync_page
from kindbot.core.events import DeliveryOutcome, DeliveryStatus
from kindbot.core.ports.seams import Clock, TokenSource
from kindbot.core.records.platform import IssuedToken

KIND = "wecom"
TOKEN_REJECTED = frozenset({40014, 42001})
_MSGID_ALLOWED = re.compile(r"[^0-9A-Za-z_-]")
_MSGID_MAX = 32

_RETRY, _FAILED = DeliveryStatus.RETRY, DeliveryStatus.FAILED
OUTCOMES: dict[int, tuple[DeliveryStatus, str]] = {
    95018: (_FAILED, "window closed (no customer message within 48 h)"),
    45015: (_FAILED, "window closed"),
    95001: (_FAILED, "window quota used (5 messages per customer message)"),
    45047: (_FAILED, "window quota used"),
    41051: (_FAILED, "welcome code already used (the customer has started chatting)"),
    81013: (_FAILED, "recipient is not a member the app can reach"),
    45009: (_RETRY, "API quota reached"),
    45033: (_RETRY, "API concurrency limit"),
    -1: (_RETRY, "platform busy"),
    40014: (_RETRY, "access token rejected after a refresh"),
    42001: (_RETRY, "access token expired after a refresh"),
}
"""``errcode`` → (status, meaning); any other non-zero code is ``FAILED``."""


class WeComApiError(Exception):
    """The platform answered with a non-zero ``errcode`` (or not with a JSON object)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


@dataclass(frozen=True, slots=True)
class WeComApiConfig:
    """What the API client needs of a channel's configuration."""

    corp_id: str
    agent_id: int
    secret: str
    api_base: str

    @property
    def token_key(self) -> str:
        """The shared-token key of this app."""
        return f"{KIND}:{self.corp_id}:{self.agent_id}"


def outcome_for(errcode: int, errmsg: str) -> DeliveryOutcome:
    """What a send's ``errcode`` means for the delivery (see :data:`OUTCOMES`)."""
    if errcode == 0:
        return DeliveryOutcome(DeliveryStatus.DELIVERED)
    status, meaning = OUTCOMES.get(errcode, (_FAILED, "refused"))
    return DeliveryOutcome(status, f"{meaning}: {errcode} {errmsg}")


def client_msgid(outbox_id: str) -> str:
    """The ``kf/send_msg`` client msgid for an outbox item: stable, so a resend is idempotent.

    WeCom allows ``[0-9A-Za-z_-]``, at most 32 bytes; outbox ids are 32 hex digits.
    """
    return _MSGID_ALLOWED.sub("", outbox_id)[:_MSGID_MAX]


def kf_text_payload(touser: str, open_kfid: str, content: str, msgid: str) -> dict[str, Any]:
    """The ``kf/send_msg`` body for a text message."""
    return {
        "touser": touser,
        "open_kfid": open_kfid,
        "msgid": msgid,
        "msgtype": "text",
        "text": {"content": content},
    }


def app_text_payload(userid: str, agent_id: int, content: str) -> dict[str, Any]:
    """The ``message/send`` body for a text message to one member."""
    return {"touser": userid, "msgtype": "text", "agentid": agent_id, "text": {"content": content}}


def welcome_payload(welcome_code: str, content: str) -> dict[str, Any]:
    """The ``externalcontact/send_welcome_msg`` body for a text welcome."""
    return {"welcome_code": welcome_code, "text": {"content": content}}


def _errcode(data: dict[str, Any]) -> int:
    return int(data.get("errcode", 0))


class WeComClient:
    """API calls for one app, with shared tokens and one retry on token errors."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: TokenSource,
        config: WeComApiConfig,
        *,
        tenant_id: str,
        clock: Clock,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._config = config
        self._tenant_id = tenant_id
        self._clock = clock

    async def _fetch(self, force: bool) -> IssuedToken:
        """``gettoken`` returns the same token while it is valid; ``force`` changes nothing."""
        now = self._clock.now()
        response = await self._http.get(
            f"{self._config.api_base}/cgi-bin/gettoken",
            params={"corpid": self._config.corp_id, "corpsecret": self._config.secret},
        )
        data = _json(response)
        if _errcode(data) != 0 or "access_token" not in data:
            raise WeComApiError(_errcode(data) or -1, str(data.get("errmsg", "")))
        expires = timedelta(seconds=int(data["expires_in"]))
        return IssuedToken(str(data["access_token"]), now + expires)

    async def _token(self, stale: str | None = None) -> str:
        return await self._tokens.token(
            tenant_id=self._tenant_id, key=self._config.token_key, fetch=self._fetch, stale=stale
        )

    async def _post(self, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._http.post(
            f"{self._config.api_base}{path}",
            params={"access_token": token},
            content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        return _json(response)

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``path``; on 40014/42001 refetch the token and retry once."""
        token = await self._token()
        data = await self._post(path, token, body)
        if _errcode(data) in TOKEN_REJECTED:
            data = await self._post(path, await self._token(stale=token), body)
        return data

    async def _send(
        self, path: str, body: dict[str, Any]
    ) -> tuple[DeliveryOutcome, dict[str, Any]]:
        try:
            data = await self.call(path, body)
        except WeComApiError as exc:
            return DeliveryOutcome(DeliveryStatus.RETRY, f"api: {exc}"), {}
        except httpx.HTTPError as exc:
            return DeliveryOutcome(DeliveryStatus.RETRY, f"network: {exc!r}"), {}
        return outcome_for(_errcode(data), str(data.get("errmsg", ""))), data

    async def sync_msg(
        self, *, cursor: str | None, token: str | None, open_kfid: str, limit: int = MAX_SYNC_LIMIT
    ) -> KfSyncPage:
        """One page of ``kf/sync_msg`` (``limit`` is clamped to 1..1000).

        ``token`` is the callback's ``Token`` (it raises WeCom's rate limit).
        Raises :class:`WeComApiError` for a refusal or a malformed answer.
        """
        body: dict[str, Any] = {"open_kfid": open_kfid, "limit": max(1, min(limit, MAX_SYNC_LIMIT))}
        if cursor:
            body["cursor"] = cursor
        if token:
            body["token"] = token
        data = await self.call("/cgi-bin/kf/sync_msg", body)
        if _errcode(data) != 0:
            raise WeComApiError(_errcode(data), str(data.get("errmsg", "")))
        try:
            return parse_sync_page(data)
        except ValueError as exc:
            raise WeComApiError(-1, f"malformed sync_msg answer: {exc}") from exc

    async def send_kf_text(
        self, *, touser: str, open_kfid: str, content: str, msgid: str
    ) -> DeliveryOutcome:
        """Send a 微信客服 text; the client ``msgid`` makes a resend a no-op."""
        payload = kf_text_payload(touser, open_kfid, content, msgid)
        outcome, _data = await self._send("/cgi-bin/kf/send_msg", payload)
        return outcome

    async def send_app_text(self, *, userid: str, content: str) -> DeliveryOutcome:
        """Send an app message to one member; a member listed in ``invaliduser`` is ``FAILED``."""
        payload = app_text_payload(userid, self._config.agent_id, content)
        outcome, data = await self._send("/cgi-bin/message/send", payload)
        invalid = str(data.get("invaliduser") or "").split("|")
        if outcome.status is DeliveryStatus.DELIVERED and userid in invalid:
            return DeliveryOutcome(DeliveryStatus.FAILED, f"invalid member {userid!r}")
        return outcome

    async def send_welcome(self, *, welcome_code: str, content: str) -> DeliveryOutcome:
        """Send the welcome for one ``WelcomeCode`` (valid once, within 20 s of the event)."""
        payload = welcome_payload(welcome_code, content)
        outcome, _data = await self._send("/cgi-bin/externalcontact/send_welcome_msg", payload)
        return outcome


def _json(response: httpx.Response) -> dict[str, Any]:
    response.raise_for_status()
    try:
        data = response.json()
    except ValueError as exc:
        raise WeComApiError(-1, "response is not JSON") from exc
    if not isinstance(data, dict):
        raise WeComApiError(-1, "response is not a JSON object")
    return data
