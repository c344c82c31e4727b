"""Independent cross-check against wechatpy, used only as a test oracle.

Messages sealed by wechatpy are opened by our codecs, and every reply we seal
is opened and parsed by wechatpy. wechatpy (a dev dependency) is imported only
here; ``src/`` never imports it. Its imports are warning-free under ``-W
error`` (it uses the ``cryptography`` backend we already depend on), so no
warning filter is needed around them.
"""

from __future__ import annotations

import pytest
import wechatpy
import xmltodict
from wechatpy import enterprise
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from kindbot.channels.wechat.crypto import decode_aes_key, encrypt, sha1_signature
from kindbot.channels.wechat.xmlcodec import parse_fields, render_fields
from kindbot.channels.wechat_oa import codec as oa
from kindbot.channels.wechat_oa.messages import EventMessage, TextMessage
from kindbot.channels.wecom import codec as wecom

TOKEN = "QDG6eK"
ENCODING_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
PREVIOUS_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
APP_ID = "wx5823bf96d3bd56c7"
CORP_ID = "ww0123456789abcdef"
NOW = 1_700_000_000
TS = str(NOW)
NONCE = "1372623149"
CONTENTS = ["", "a", "你好", "x" * 13, "y" * 29, "a]]><xml>evil</xml>", "长" * 300]

OA_CONFIG = oa.OAConfig(TOKEN, APP_ID, ENCODING_KEY, PREVIOUS_KEY, "safe")
WECOM_CONFIG = wecom.WeComConfig(TOKEN, CORP_ID, ENCODING_KEY, PREVIOUS_KEY)


def _inbound_text(content: str, to_user: str) -> str:
    return render_fields(
        [
            ("ToUserName", to_user),
            ("FromUserName", "oUser"),
            ("CreateTime", NOW),
            ("MsgType", "text"),
            ("Content", content),
            ("MsgId", "1234567"),
        ]
    )


def _query_for(envelope: str) -> dict[str, str]:
    fields = parse_fields(envelope.encode("utf-8"))
    return {
        "msg_signature": fields["MsgSignature"],
        "timestamp": fields["TimeStamp"],
        "nonce": fields["Nonce"],
    }


@pytest.mark.parametrize("encoding_key", [ENCODING_KEY, PREVIOUS_KEY])
@pytest.mark.parametrize("content", CONTENTS)
def test_oa_accepts_messages_sealed_by_wechatpy(content: str, encoding_key: str) -> None:
    sealer = WeChatCrypto(TOKEN, encoding_key, APP_ID)
    envelope = sealer.encrypt_message(_inbound_text(content, "gh_abc"), NONCE, TS)
    query = {**_query_for(envelope), "encrypt_type": "aes", "signature": "ignored"}
    opened = oa.open_callback(OA_CONFIG, query, envelope.encode("utf-8"), now=NOW)
    assert opened.key == decode_aes_key(encoding_key)
    assert isinstance(opened.message, TextMessage)
    assert opened.message.content == content
    assert opened.message.msg_id == "1234567"


def test_oa_accepts_an_event_sealed_by_wechatpy() -> None:
    xml = render_fields(
        [
            ("ToUserName", "gh_abc"),
            ("FromUserName", "oUser"),
            ("CreateTime", NOW),
            ("MsgType", "event"),
            ("Event", "subscribe"),
            ("EventKey", "qrscene_7"),
            ("Ticket", "T"),
        ]
    )
    envelope = WeChatCrypto(TOKEN, ENCODING_KEY, APP_ID).encrypt_message(xml, NONCE, TS)
    query = {**_query_for(envelope), "encrypt_type": "aes"}
    message = oa.open_callback(OA_CONFIG, query, envelope.encode("utf-8"), now=NOW).message
    assert isinstance(message, EventMessage)
    assert (message.event, message.qr_scene, message.ticket) == ("subscribe", "7", "T")


def _oa_replies(content: str) -> list[str]:
    return [
        oa.render_text_reply("oUser", "gh_abc", content, NOW),
        oa.render_image_reply("oUser", "gh_abc", "MEDIA_ID", NOW),
        oa.render_news_reply(
            "oUser", "gh_abc", [oa.Article(content, "desc", "http://p", "http://u")] * 2, NOW
        ),
    ]


@pytest.mark.parametrize("content", CONTENTS)
@pytest.mark.parametrize("encoding_key", [ENCODING_KEY, PREVIOUS_KEY])
def test_wechatpy_opens_every_reply_we_seal(content: str, encoding_key: str) -> None:
    key = decode_aes_key(encoding_key)
    opener = WeChatCrypto(TOKEN, encoding_key, APP_ID)
    for reply in _oa_replies(content):
        sealed = oa.seal_reply(reply, config=OA_CONFIG, key=key, timestamp=TS, nonce=NONCE)
        signature = parse_fields(sealed.encode())["MsgSignature"]
        decrypted = opener.decrypt_message(sealed, signature, TS, NONCE)
        assert decrypted == reply
        parsed = wechatpy.parse_message(decrypted)
        assert (parsed.source, parsed.target) == ("gh_abc", "oUser")
    text, image, news = _oa_replies(content)
    # wechatpy (xmltodict) yields None for an empty element, hence `or ""`.
    assert (wechatpy.parse_message(text).content or "") == content
    assert wechatpy.parse_message(image).type == "image"
    # news is reply-only, so wechatpy's parser calls it unknown: check it with xmltodict.
    items = xmltodict.parse(news)["xml"]["Articles"]["item"]
    assert [item["Title"] or "" for item in items] == [content, content]


@pytest.mark.parametrize("content", CONTENTS)
def test_wecom_accepts_messages_sealed_by_wechatpy(content: str) -> None:
    sealer = WeComCrypto(TOKEN, ENCODING_KEY, CORP_ID)
    envelope = sealer.encrypt_message(_inbound_text(content, CORP_ID), NONCE, TS)
    fields, key = wecom.open_callback(
        WECOM_CONFIG, _query_for(envelope), envelope.encode("utf-8"), now=NOW
    )
    assert key == decode_aes_key(ENCODING_KEY)
    assert fields["Content"] == content
    assert (enterprise.parse_message(_inbound_text(content, CORP_ID)).content or "") == content


def test_wecom_echostr_we_decrypt_matches_wechatpy() -> None:
    echostr = encrypt(b"8329715640238", decode_aes_key(ENCODING_KEY), CORP_ID)
    msg_signature = sha1_signature(TOKEN, TS, NONCE, echostr)
    query = {"msg_signature": msg_signature, "timestamp": TS, "nonce": NONCE, "echostr": echostr}
    ours = wecom.verify_url(WECOM_CONFIG, query)
    theirs = WeComCrypto(TOKEN, ENCODING_KEY, CORP_ID).check_signature(
        msg_signature, TS, NONCE, echostr
    )
    assert ours == "8329715640238"
    assert (theirs.decode() if isinstance(theirs, bytes) else theirs) == ours


@pytest.mark.parametrize("content", CONTENTS)
def test_wechatpy_opens_wecom_replies_we_seal(content: str) -> None:
    reply = oa.render_text_reply("member", CORP_ID, content, NOW)
    sealed = wecom.seal_reply(
        reply, config=WECOM_CONFIG, key=decode_aes_key(ENCODING_KEY), timestamp=TS, nonce=NONCE
    )
    signature = parse_fields(sealed.encode())["MsgSignature"]
    decrypted = WeComCrypto(TOKEN, ENCODING_KEY, CORP_ID).decrypt_message(
        sealed, signature, TS, NONCE
    )
    assert decrypted == reply
