"""A client that plays the WeCom server towards an app's callback URL.

It encrypts and signs callbacks the way WeCom does — ``msg_signature`` over
(token, timestamp, nonce, Encrypt), the plaintext sealed for the CorpID — in
the XML envelope or the JSON one, builds the encrypted GET verification, and
renders the app messages and events the tests need.
"""

from __future__ import annotations

import json
import secrets

import httpx

from kindbot.channels.wechat.crypto import decode_aes_key, encrypt, sha1_signature
from kindbot.channels.wechat.xmlcodec import render_fields

Fields = list[tuple[str, str | int]]


class WeComServerClient:
    """Pushes callbacks to one WeCom app's callback URL."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        *,
        token: str,
        corp_id: str,
        agent_id: int,
        encoding_aes_key: str,
    ) -> None:
        self._http = http
        self._url = url
        self._token = token
        self.corp_id = corp_id
        self.agent_id = agent_id
        self._key = decode_aes_key(encoding_aes_key)

    def _sealed(self, plaintext: str) -> str:
        return encrypt(plaintext.encode("utf-8"), self._key, self.corp_id)

    def _query(self, ciphertext: str, timestamp: int, nonce: str | None) -> dict[str, str]:
        ts, nonce = str(timestamp), nonce or str(secrets.randbelow(10**9))
        signature = sha1_signature(self._token, ts, nonce, ciphertext)
        return {"msg_signature": signature, "timestamp": ts, "nonce": nonce}

    def verification_query(self, echo: str, timestamp: int) -> dict[str, str]:
        """The GET query of URL verification, with ``echo`` encrypted as ``echostr``."""
        echostr = self._sealed(echo)
        return {**self._query(echostr, timestamp, None), "echostr": echostr}

    def build(
        self, xml: str, timestamp: int, *, nonce: str | None = None, json_envelope: bool = False
    ) -> tuple[dict[str, str], bytes]:
        """The query string and body WeCom would send for the message ``xml``."""
        sealed = self._sealed(xml)
        if json_envelope:
            envelope = {"tousername": self.corp_id, "encrypt": sealed, "agentid": self.agent_id}
            body = json.dumps(envelope).encode("utf-8")
        else:
            items: Fields = [
                ("ToUserName", self.corp_id),
                ("Encrypt", sealed),
                ("AgentID", str(self.agent_id)),
            ]
            body = render_fields(items).encode("utf-8")
        return self._query(sealed, timestamp, nonce), body

    async def push(
        self, xml: str, timestamp: int, *, nonce: str | None = None, json_envelope: bool = False
    ) -> httpx.Response:
        """Post the callback for ``xml``."""
        query, body = self.build(xml, timestamp, nonce=nonce, json_envelope=json_envelope)
        return await self._http.post(self._url, params=query, content=body)

    def _head(self, msg_type: str, create_time: int, from_user: str | None) -> Fields:
        items: Fields = [("ToUserName", self.corp_id)]
        if from_user is not None:
            items.append(("FromUserName", from_user))
        items += [("CreateTime", create_time), ("MsgType", msg_type)]
        return items

    def text_xml(self, userid: str, content: str, msg_id: str, create_time: int) -> str:
        """A member's text message to the app."""
        items = self._head("text", create_time, userid)
        items += [("Content", content), ("MsgId", msg_id), ("AgentID", self.agent_id)]
        return render_fields(items)

    def event_xml(self, userid: str, event: str, create_time: int, key: str = "") -> str:
        """An app event (``enter_agent``, ``click``, ``view`` …)."""
        items = self._head("event", create_time, userid)
        items += [("Event", event), ("EventKey", key), ("AgentID", self.agent_id)]
        return render_fields(items)

    def kf_notify_xml(self, open_kfid: str, callback_token: str, create_time: int) -> str:
        """``kf_msg_or_event``: 微信客服 has news (no FromUserName, like WeCom's)."""
        items = self._head("event", create_time, None)
        items += [("Event", "kf_msg_or_event"), ("Token", callback_token), ("OpenKfId", open_kfid)]
        return render_fields(items)

    def external_contact_added_xml(
        self, userid: str, external_userid: str, welcome_code: str, create_time: int
    ) -> str:
        """``change_external_contact`` / ``add_external_contact`` with a WelcomeCode."""
        items = self._head("event", create_time, "sys")
        items += [
            ("Event", "change_external_contact"),
            ("ChangeType", "add_external_contact"),
            ("UserID", userid),
            ("ExternalUserID", external_userid),
            ("WelcomeCode", welcome_code),
        ]
        return render_fields(items)
