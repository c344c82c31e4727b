"""Fuzzing the WeChat OA and WeCom callback parsers, plain and encrypted (issue 13).

Each example starts from a valid envelope built as WeChat would build it, then
mutates it; where the mutation sits behind the signature, the mutated body is
signed again with the channel's token so that the parser behind it is reached.
"""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from kindbot.channels.wechat.crypto import decrypt, sha1_signature
from kindbot.channels.wechat.xmlcodec import parse_fields, render_fields
from kindbot.channels.wechat_oa import codec as oa
from kindbot.channels.wechat_oa.messages import to_inbound_event
from kindbot.channels.wecom import codec as wecom
from kindbot.channels.wecom.kf import kf_to_inbound_event, parse_sync_page
from kindbot.channels.wecom.messages import parse_message as parse_wecom
from kindbot.channels.wecom.messages import to_inbound_event as wecom_event
from tests.fuzz.strategies import AES, KEY, NOW, TS, ciphertexts, xml_bodies
from tests.fuzz.support import FUZZ, nasty_text, parsed_or_refused, storable
from tests.support.clock import FakeClock

TOKEN = "fuzztoken"
APP_ID = "wx0123456789abcdef"
CORP_ID = "ww0123456789abcdef"
NONCE = "12345"
RECEIVED = FakeClock().now()

OA_SAFE = oa.OAConfig(TOKEN, APP_ID, AES, None, "safe")
OA_PLAIN = oa.OAConfig(TOKEN, APP_ID, None, None, "plain")
WECOM = wecom.WeComConfig(TOKEN, CORP_ID, AES)


def signed(query: dict[str, str], *parts: str) -> dict[str, str]:
    return {**query, "msg_signature": sha1_signature(TOKEN, TS, NONCE, *parts)}


@FUZZ
@given(xml_bodies())
@example(b"<xml><a>" + b"<b>" * 3000 + b"</b>" * 3000 + b"</a></xml>")  # issue 13
def test_parse_fields(body: bytes) -> None:
    parsed_or_refused(lambda: parse_fields(body))


@FUZZ
@given(xml_bodies(), st.sampled_from(["raw", "aes"]))
def test_oa_plain_callbacks(body: bytes, encrypt_type: str) -> None:
    query = {
        "timestamp": TS,
        "nonce": NONCE,
        "encrypt_type": encrypt_type,
        "signature": sha1_signature(TOKEN, TS, NONCE),
    }

    def open_and_convert() -> object:
        opened = oa.open_callback(OA_PLAIN, query, body, now=NOW)
        return to_inbound_event(opened.message, channel_public_id="s.oa", received_at=RECEIVED)

    parsed_or_refused(open_and_convert)


@FUZZ
@given(ciphertexts(APP_ID), st.sampled_from(["safe", "compatible"]))
def test_oa_encrypted_callbacks(ciphertext: str, layout: str) -> None:
    envelope = render_fields([("ToUserName", "gh_0123456789ab"), ("Encrypt", ciphertext)])
    query = signed({"timestamp": TS, "nonce": NONCE, "encrypt_type": "aes"}, ciphertext)

    def open_and_convert() -> object:
        opened = oa.open_callback(OA_SAFE, query, envelope.encode(), now=NOW)
        return to_inbound_event(opened.message, channel_public_id="s.oa", received_at=RECEIVED)

    parsed_or_refused(open_and_convert)


@FUZZ
@given(ciphertexts(CORP_ID), st.booleans())
def test_wecom_callbacks(ciphertext: str, as_json: bool) -> None:
    if as_json:
        body = json.dumps({"tousername": CORP_ID, "encrypt": ciphertext, "agentid": 1}).encode()
    else:
        body = render_fields([("ToUserName", CORP_ID), ("Encrypt", ciphertext)]).encode()
    query = signed({"timestamp": TS, "nonce": NONCE}, ciphertext)

    def open_and_convert() -> object:
        opened = wecom.open_callback(WECOM, query, body, now=NOW)
        message = parse_wecom(opened.fields)
        return message, wecom_event(message, channel_public_id="s.wc", received_at=RECEIVED)

    parsed_or_refused(open_and_convert)


@FUZZ
@given(st.one_of(nasty_text, st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_crypto_envelope(ciphertext: str) -> None:
    parsed_or_refused(lambda: decrypt(ciphertext, KEY, receive_id=APP_ID))


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(
            ["signature", "timestamp", "nonce", "echostr", "msg_signature", "encrypt_type"]
        ),
        nasty_text,
    )
)
def test_url_verification_queries(query: dict[str, str]) -> None:
    parsed_or_refused(lambda: oa.verify_url(OA_PLAIN, query))
    parsed_or_refused(lambda: wecom.verify_url(WECOM, query))


KF_KEYS = ["msgid", "msgtype", "origin", "external_userid", "open_kfid", "send_time", "text"]
kf_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    nasty_text,
    st.sampled_from(["9" * 5000, "m" * 129, "text", "3", 3]),
    st.dictionaries(st.sampled_from(["content", "title", "name"]), nasty_text, max_size=2),
)


@FUZZ
@given(
    cursor=st.text(max_size=10),
    has_more=kf_values,
    items=st.lists(
        st.one_of(kf_values, st.dictionaries(st.sampled_from(KF_KEYS), kf_values, max_size=7)),
        max_size=3,
    ),
)
@example(cursor="c", has_more="9" * 5000, items=[{"msgid": "m", "send_time": "9" * 5000}])
def test_kf_sync_pages(cursor: str, has_more: object, items: list[object]) -> None:
    # The 微信客服 API's pages are parsed leniently: a malformed item is skipped, never fatal.
    page = parse_sync_page({"next_cursor": cursor, "has_more": has_more, "msg_list": items})
    storable(page)
    for message in page.messages:
        storable(kf_to_inbound_event(message, channel_public_id="s.kf", received_at=RECEIVED))
