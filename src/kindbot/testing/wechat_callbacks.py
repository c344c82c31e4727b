"""A client that plays the WeChat server towards an Official Account callback URL.

It builds message pushes the way WeChat does — signed, and encrypted in
compatible and safe modes — posts them, retries a push whose answer did not
arrive within ``timeout`` seconds (three attempts in all by default), and
decrypts passive replies. With ``retry_failures`` a failed connection (a server
that died or is restarting) is retried too, ``timeout`` seconds after the
attempt began, as WeChat does. Used by the tests, the demo and the benchmark.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Literal

import httpx

from kindbot.channels.wechat.crypto import decode_aes_key, decrypt, encrypt, sha1_signature
from kindbot.channels.wechat.xmlcodec import parse_fields, render_fields

ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class PushReply:
    """What the account answered: ``success``/empty (``fields`` None) or a reply's fields."""

    status: int
    body: bytes
    fields: dict[str, str] | None
    attempts: int

    @property
    def content(self) -> str | None:
        """The text of a passive text reply, if that is what came back."""
        return self.fields.get("Content") if self.fields else None


class WeChatServerClient:
    """Pushes messages to one account's callback URL as WeChat would."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        *,
        token: str,
        app_id: str,
        gh_id: str,
        mode: Literal["plain", "compatible", "safe"],
        encoding_aes_key: str | None = None,
        timeout: float = 5.0,
        attempts: int = ATTEMPTS,
        retry_failures: bool = False,
    ) -> None:
        self._http = http
        self._url = url
        self._token = token
        self._app_id = app_id
        self.gh_id = gh_id
        self._mode = mode
        self._key = decode_aes_key(encoding_aes_key) if encoding_aes_key else None
        self._timeout = timeout
        self._attempts = attempts
        self._retry_failures = retry_failures

    def _query(self, timestamp: int, nonce: str, encrypted: str | None) -> dict[str, str]:
        ts = str(timestamp)
        query = {
            "signature": sha1_signature(self._token, ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            "openid": "",
        }
        if encrypted is not None:
            query["encrypt_type"] = "aes"
            query["msg_signature"] = sha1_signature(self._token, ts, nonce, encrypted)
        return query

    def build(
        self, xml: str, timestamp: int, nonce: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        """The query string and body WeChat would send for ``xml``."""
        nonce = nonce or str(secrets.randbelow(10**9))
        if self._mode == "plain" or self._key is None:
            return self._query(timestamp, nonce, None), xml.encode("utf-8")
        sealed = encrypt(xml.encode("utf-8"), self._key, self._app_id)
        items: list[tuple[str, str | int]] = [("ToUserName", self.gh_id), ("Encrypt", sealed)]
        if self._mode == "compatible":
            body = xml.replace("</xml>", f"<Encrypt><![CDATA[{sealed}]]></Encrypt></xml>")
            return self._query(timestamp, nonce, sealed), body.encode("utf-8")
        return self._query(timestamp, nonce, sealed), render_fields(items).encode("utf-8")

    def text_xml(self, openid: str, content: str, msg_id: str, create_time: int) -> str:
        """A text message push."""
        return render_fields(
            [
                ("ToUserName", self.gh_id),
                ("FromUserName", openid),
                ("CreateTime", create_time),
                ("MsgType", "text"),
                ("Content", content),
                ("MsgId", msg_id),
            ]
        )

    def event_xml(self, openid: str, event: str, create_time: int, key: str = "") -> str:
        """An event push (subscribe, unsubscribe, CLICK …)."""
        items: list[tuple[str, str | int]] = [
            ("ToUserName", self.gh_id),
            ("FromUserName", openid),
            ("CreateTime", create_time),
            ("MsgType", "event"),
            ("Event", event),
        ]
        if key:
            items.append(("EventKey", key))
        return render_fields(items)

    async def push(self, xml: str, timestamp: int, nonce: str | None = None) -> PushReply:
        """Post ``xml``; retry on a timeout like WeChat (same query and body each time)."""
        query, body = self.build(xml, timestamp, nonce)
        for attempt in range(1, self._attempts + 1):
            started = time.monotonic()
            try:
                response = await self._http.post(
                    self._url, params=query, content=body, timeout=self._timeout
                )
            except httpx.TimeoutException:
                if attempt == self._attempts:
                    raise
                continue
            except httpx.TransportError:
                if not self._retry_failures or attempt == self._attempts:
                    raise
                await asyncio.sleep(max(0.0, self._timeout - (time.monotonic() - started)))
                continue
            return PushReply(response.status_code, response.content, self._open(response), attempt)
        raise AssertionError("unreachable")

    def _open(self, response: httpx.Response) -> dict[str, str] | None:
        if response.status_code != 200 or response.content in (b"", b"success"):
            return None
        fields = parse_fields(response.content)
        if "Encrypt" in fields and self._key is not None:
            expected = sha1_signature(
                self._token, fields.get("TimeStamp", ""), fields.get("Nonce", ""), fields["Encrypt"]
            )
            if fields.get("MsgSignature") != expected:
                raise ValueError("reply MsgSignature does not match its Encrypt")
            plain = decrypt(fields["Encrypt"], self._key, receive_id=self._app_id)
            return parse_fields(plain)
        return fields
