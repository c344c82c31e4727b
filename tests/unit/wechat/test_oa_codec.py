"""The OA callback codec: modes, signature confusion, timestamps, replies, dedupe keys."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from kindbot.channels.wechat.crypto import (
    WeChatCryptoError,
    WeChatSignatureError,
    decode_aes_key,
    decrypt,
    encrypt,
    sha1_signature,
)
from kindbot.channels.wechat.xmlcodec import WeChatXmlError, parse_fields, render_fields
from kindbot.channels.wechat_oa.codec import (
    Article,
    Mode,
    OAConfig,
    open_callback,
    render_image_reply,
    render_news_reply,
    render_text_reply,
    seal_reply,
    verify_url,
)
from kindbot.channels.wechat_oa.messages import EventMessage, TextMessage, dedupe_key
from kindbot.core.errors import BadRequestError, KindbotError

TOKEN = "tok3n"
APP_ID = "wx1234567890abcdef"
CURRENT = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
PREVIOUS = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
NOW = 1_700_000_000
TS = str(NOW)
NONCE = "98765"
MESSAGE = render_fields(
    [
        ("ToUserName", "gh_abc"),
        ("FromUserName", "oUser1"),
        ("CreateTime", NOW),
        ("MsgType", "text"),
        ("Content", "你好"),
        ("MsgId", "6000000000000000001"),
    ]
).encode("utf-8")


def _config(mode: Mode, *, key: str | None = CURRENT, previous: str | None = None) -> OAConfig:
    return OAConfig(
        token=TOKEN,
        app_id=APP_ID,
        encoding_aes_key=key,
        previous_encoding_aes_key=previous,
        mode=mode,
    )


def _plain_query(timestamp: str = TS) -> dict[str, str]:
    signature = sha1_signature(TOKEN, timestamp, NONCE)
    return {"signature": signature, "timestamp": timestamp, "nonce": NONCE, "openid": "oUser1"}


def _encrypted(
    encoding_key: str = CURRENT, timestamp: str = TS, *, compatible: bool = False
) -> tuple[dict[str, str], bytes]:
    ciphertext = encrypt(MESSAGE, decode_aes_key(encoding_key), APP_ID)
    query = {
        **_plain_query(timestamp),
        "encrypt_type": "aes",
        "msg_signature": sha1_signature(TOKEN, timestamp, NONCE, ciphertext),
    }
    plain_part = MESSAGE.decode()[len("<xml>") : -len("</xml>")] if compatible else ""
    body = f"<xml><ToUserName><![CDATA[gh_abc]]></ToUserName>{plain_part}"
    return query, f"{body}<Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>".encode()


def _raises(code: str, call: object, *args: object, **kwargs: object) -> KindbotError:
    assert callable(call)
    with pytest.raises(KindbotError) as exc:
        call(*args, **kwargs)
    assert exc.value.code == code, exc.value.message
    return exc.value


def test_get_verification_returns_echostr_unchanged() -> None:
    query = {**_plain_query(), "echostr": "abc+/= 123"}
    assert verify_url(_config("safe"), query) == "abc+/= 123"
    error = _raises("bad_signature", verify_url, _config("safe"), {**query, "nonce": "1"})
    assert error.http_status == 403
    missing = {k: v for k, v in query.items() if k != "signature"}
    _raises("missing_signature", verify_url, _config("safe"), missing)
    no_echo = {k: v for k, v in query.items() if k != "echostr"}
    _raises("missing_field", verify_url, _config("safe"), no_echo)


@pytest.mark.parametrize("mode", ["plain", "compatible"])
def test_plaintext_posts_in_plain_and_compatible_modes(mode: Mode) -> None:
    opened = open_callback(_config(mode), _plain_query(), MESSAGE, now=NOW)
    assert not opened.encrypted
    assert opened.key is None
    assert isinstance(opened.message, TextMessage)
    assert opened.message.content == "你好"
    raw = {**_plain_query(), "encrypt_type": "raw"}
    assert open_callback(_config(mode), raw, MESSAGE, now=NOW).message == opened.message


@pytest.mark.parametrize("mode", ["compatible", "safe"])
@pytest.mark.parametrize("compatible_body", [False, True])
def test_encrypted_posts(mode: Mode, compatible_body: bool) -> None:
    query, body = _encrypted(compatible=compatible_body)
    opened = open_callback(_config(mode), query, body, now=NOW)
    assert opened.encrypted
    assert opened.key == decode_aes_key(CURRENT)
    assert (opened.nonce, opened.timestamp) == (NONCE, TS)
    assert isinstance(opened.message, TextMessage)
    assert opened.message.content == "你好"


def test_encrypted_post_is_accepted_in_plain_mode_when_a_key_is_set() -> None:
    query, body = _encrypted()
    assert open_callback(_config("plain"), query, body, now=NOW).encrypted


def test_safe_mode_refuses_plaintext() -> None:
    error = _raises(
        "encryption_required", open_callback, _config("safe"), _plain_query(), MESSAGE, now=NOW
    )
    assert error.http_status == 403


def test_plain_mode_without_key_refuses_encrypted_posts() -> None:
    query, body = _encrypted()
    error = _raises(
        "encryption_not_configured", open_callback, _config("plain", key=None), query, body, now=NOW
    )
    assert error.http_status == 400


def test_a_body_signed_only_with_signature_is_refused_when_encrypted() -> None:
    """The classic bug: checking ``signature`` (which ignores the body) on an encrypted post."""
    query, body = _encrypted()
    del query["msg_signature"]
    _raises("missing_signature", open_callback, _config("safe"), query, body, now=NOW)
    # msg_signature set to the plain signature value: still refused
    query["msg_signature"] = query["signature"]
    _raises("bad_signature", open_callback, _config("safe"), query, body, now=NOW)


def test_a_swapped_ciphertext_fails_msg_signature() -> None:
    query, _ = _encrypted()
    _, other_body = _encrypted()  # a fresh random prefix → another ciphertext
    _raises("bad_signature", open_callback, _config("safe"), query, other_body, now=NOW)


def test_plain_signature_is_checked() -> None:
    query = {**_plain_query(), "signature": "0" * 40}
    _raises("bad_signature", open_callback, _config("plain"), query, MESSAGE, now=NOW)
    del query["signature"]
    _raises("missing_signature", open_callback, _config("plain"), query, MESSAGE, now=NOW)
    _raises("missing_signature", open_callback, _config("plain"), {}, MESSAGE, now=NOW)


@pytest.mark.parametrize("skew", [-301, 301, 10_000])
def test_stale_timestamps_are_refused(skew: int) -> None:
    old = str(NOW + skew)
    error = _raises(
        "stale_timestamp", open_callback, _config("plain"), _plain_query(old), MESSAGE, now=NOW
    )
    assert error.http_status == 403
    query, body = _encrypted(timestamp=old)
    _raises("stale_timestamp", open_callback, _config("safe"), query, body, now=NOW)


def test_clock_skew_zero_disables_the_check_and_300_is_inclusive() -> None:
    old = str(NOW - 10**6)
    config = OAConfig(TOKEN, APP_ID, None, None, "plain", max_clock_skew=0)
    assert open_callback(config, _plain_query(old), MESSAGE, now=NOW)
    assert open_callback(_config("plain"), _plain_query(str(NOW - 300)), MESSAGE, now=NOW)


def test_key_rotation_accepts_the_previous_key_and_reports_it() -> None:
    query, body = _encrypted(PREVIOUS)
    config = _config("safe", previous=PREVIOUS)
    opened = open_callback(config, query, body, now=NOW)
    assert opened.key == decode_aes_key(PREVIOUS)
    _raises("bad_padding", open_callback, _config("safe"), query, body, now=NOW)


def test_a_message_sealed_for_another_app_is_refused() -> None:
    ciphertext = encrypt(MESSAGE, decode_aes_key(CURRENT), "wx-someone-else")
    query = {
        **_plain_query(),
        "encrypt_type": "aes",
        "msg_signature": sha1_signature(TOKEN, TS, NONCE, ciphertext),
    }
    body = f"<xml><Encrypt>{ciphertext}</Encrypt></xml>".encode()
    _raises("receive_id_mismatch", open_callback, _config("safe"), query, body, now=NOW)


def test_envelope_problems() -> None:
    query, _ = _encrypted()
    _raises("missing_field", open_callback, _config("safe"), query, b"<xml><A>1</A></xml>", now=NOW)
    _raises("invalid_xml", open_callback, _config("safe"), query, b"<xml>", now=NOW)
    weird = {**query, "encrypt_type": "rot13"}
    _raises("unsupported_encrypt_type", open_callback, _config("safe"), weird, b"", now=NOW)


@pytest.mark.parametrize(
    ("kwargs", "error", "code"),
    [
        ({"mode": "safe", "encoding_aes_key": None}, BadRequestError, "invalid_config"),
        ({"mode": "secret"}, BadRequestError, "invalid_config"),
        ({"mode": "safe", "encoding_aes_key": "short"}, WeChatCryptoError, "bad_aes_key"),
        (
            {"mode": "plain", "previous_encoding_aes_key": "!" * 43},
            WeChatCryptoError,
            "bad_aes_key",
        ),
        ({"mode": "plain", "token": ""}, BadRequestError, "invalid_config"),
    ],
)
def test_config_validation(
    kwargs: Mapping[str, object], error: type[KindbotError], code: str
) -> None:
    base: dict[str, object] = {
        "token": TOKEN,
        "app_id": APP_ID,
        "encoding_aes_key": CURRENT,
        "previous_encoding_aes_key": None,
    }
    with pytest.raises(error) as exc:
        OAConfig(**{**base, **kwargs})  # type: ignore[arg-type]
    assert exc.value.code == code


def test_replies_render_and_parse_back() -> None:
    text = parse_fields(render_text_reply("oUser1", "gh_abc", "hi & <bye>", NOW).encode())
    assert text == {
        "ToUserName": "oUser1",
        "FromUserName": "gh_abc",
        "CreateTime": TS,
        "MsgType": "text",
        "Content": "hi & <bye>",
    }
    image = render_image_reply("oUser1", "gh_abc", "MEDIA]]>", NOW)
    assert parse_fields(image.encode())["MsgType"] == "image"
    assert parse_fields(
        parse_fields(image.encode())["Image"].join(["<xml>", "</xml>"]).encode()
    ) == {"MediaId": "MEDIA]]>"}


def test_news_reply() -> None:
    articles = [Article(f"T{i}]]>", "D", "http://p", "http://u") for i in range(8)]
    news = parse_fields(render_news_reply("oUser1", "gh_abc", articles, NOW).encode())
    assert (news["MsgType"], news["ArticleCount"]) == ("news", "8")
    assert news["Articles"].count("<item>") == 8
    assert "T7]]&gt;" in news["Articles"]
    for count in (0, 9):
        with pytest.raises(ValueError, match="1 to 8"):
            render_news_reply("oUser1", "gh_abc", articles[:1] * count, NOW)


def test_sealed_reply_opens_with_the_same_key_and_signature() -> None:
    query, body = _encrypted(PREVIOUS)
    config = _config("safe", previous=PREVIOUS)
    opened = open_callback(config, query, body, now=NOW)
    assert opened.key is not None
    reply = render_text_reply("oUser1", "gh_abc", "ok", NOW)
    sealed = seal_reply(reply, config=config, key=opened.key, timestamp=TS, nonce="n<1>")
    envelope = parse_fields(sealed.encode())
    assert list(envelope) == ["Encrypt", "MsgSignature", "TimeStamp", "Nonce"]
    assert envelope["MsgSignature"] == sha1_signature(TOKEN, TS, "n<1>", envelope["Encrypt"])
    assert (envelope["TimeStamp"], envelope["Nonce"]) == (TS, "n<1>")
    opened_reply = decrypt(envelope["Encrypt"], decode_aes_key(PREVIOUS), receive_id=APP_ID)
    assert opened_reply.decode() == reply
    with pytest.raises(ValueError, match="digits"):
        seal_reply(reply, config=config, key=opened.key, timestamp="soon", nonce="n")


def test_dedupe_keys_for_messages_and_events() -> None:
    opened = open_callback(_config("plain"), _plain_query(), MESSAGE, now=NOW)
    assert dedupe_key(opened.message) == "msg:oUser1:6000000000000000001"
    click = render_fields(
        [
            ("ToUserName", "gh_abc"),
            ("FromUserName", "oUser1"),
            ("CreateTime", NOW),
            ("MsgType", "event"),
            ("Event", "CLICK"),
            ("EventKey", "MENU_1"),
        ]
    ).encode()
    event = open_callback(_config("plain"), _plain_query(), click, now=NOW).message
    assert isinstance(event, EventMessage)
    assert dedupe_key(event) == f"evt:oUser1:{NOW}:CLICK:MENU_1"
    no_id = render_fields(
        [("ToUserName", "g"), ("FromUserName", "o2"), ("CreateTime", 5), ("MsgType", "image")]
    ).encode()
    image = open_callback(_config("plain"), _plain_query(), no_id, now=NOW).message
    assert dedupe_key(image) == "evt:o2:5:image:"


def test_errors_are_the_channel_types() -> None:
    assert issubclass(WeChatSignatureError, KindbotError)
    assert WeChatSignatureError.http_status == 403
    assert WeChatCryptoError.http_status == 400
    assert WeChatXmlError.http_status == 400
