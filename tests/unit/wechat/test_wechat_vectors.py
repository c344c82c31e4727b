"""Every official test vector in shared/data/wechat-vectors.json must pass.

Each vector is checked by its ``kind``; a kind without a checker fails the
suite, so new vectors cannot be skipped silently.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kindbot.channels.wechat.crypto import (
    decode_aes_key,
    decrypt,
    encrypt,
    sha1_signature,
    signature_matches,
)
from kindbot.channels.wechat.xmlcodec import parse_fields
from kindbot.channels.wechat_oa import codec as oa
from kindbot.channels.wechat_oa.messages import EventMessage
from kindbot.channels.wecom import codec as wecom
from kindbot.core.errors import KindbotError

VECTORS_PATH = Path(__file__).parents[3].parent / "shared" / "data" / "wechat-vectors.json"


def _load() -> list[dict[str, Any]]:
    if not VECTORS_PATH.is_file():
        pytest.fail(
            f"WeChat test vectors not found at {VECTORS_PATH} (shared/ must sit beside main/)"
        )
    vectors: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text("utf-8"))["vectors"]
    return vectors


VECTORS = _load()
Vector = dict[str, Any]


def _wecom_config(v: Vector) -> wecom.WeComConfig:
    return wecom.WeComConfig(
        token=v["token"], corp_id=v["receive_id"], encoding_aes_key=v["encoding_aes_key"]
    )


def _oa_config(v: Vector, mode: oa.Mode = "safe", skew: int = 0) -> oa.OAConfig:
    return oa.OAConfig(
        token=v["token"],
        app_id=v.get("receive_id", "wx0000000000000000"),
        encoding_aes_key=v.get("encoding_aes_key"),
        previous_encoding_aes_key=None,
        mode=mode,
        max_clock_skew=skew,
    )


def check_wecom_verify_url(v: Vector) -> None:
    query = {k: v[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")}
    assert wecom.verify_url(_wecom_config(v), query) == v["expected_plain"]


def check_wecom_decrypt_xml(v: Vector) -> None:
    assert signature_matches(
        v["msg_signature"], v["token"], v["timestamp"], v["nonce"], v["encrypt"]
    )
    key = decode_aes_key(v["encoding_aes_key"])
    assert decrypt(v["encrypt"], key, receive_id=v["receive_id"]).decode() == v["expected_plain"]
    query = {k: v[k] for k in ("msg_signature", "timestamp", "nonce")}
    xml_body = (
        f"<xml><ToUserName><![CDATA[{v['receive_id']}]]></ToUserName>"
        f"<Encrypt><![CDATA[{v['encrypt']}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
    ).encode()
    json_body = json.dumps(
        {"tousername": v["receive_id"], "encrypt": v["encrypt"], "agentid": "218"}
    ).encode()
    expected = parse_fields(v["expected_plain"].encode())
    now = int(v["timestamp"])
    for body in (xml_body, b"  \n" + json_body):
        fields, opened_with = wecom.open_callback(_wecom_config(v), query, body, now=now)
        assert fields == expected
        assert opened_with == key
    assert expected["Content"] == "hello"
    assert expected["AgentID"] == "218"


def check_oa_plain_signature(v: Vector) -> None:
    assert sha1_signature(v["token"], v["timestamp"], v["nonce"]) == v["signature"]
    assert signature_matches(v["signature"], v["token"], v["timestamp"], v["nonce"])
    assert not signature_matches(v["signature"], v["token"], v["timestamp"], v["nonce"] + "0")


def check_oa_plain_get_verify(v: Vector) -> None:
    check_oa_plain_signature(v)
    query = {k: v[k] for k in ("signature", "timestamp", "nonce", "echostr")}
    modes: tuple[oa.Mode, ...] = ("plain", "compatible", "safe")
    for mode in modes:  # the GET is plaintext in every mode
        config = _oa_config({**v, "encoding_aes_key": "A" * 43}, mode=mode)
        assert oa.verify_url(config, query) == v["echostr"]


def check_oa_decrypt_xml(v: Vector) -> None:
    key = decode_aes_key(v["encoding_aes_key"])
    plaintext = decrypt(v["encrypt"], key, receive_id=v["receive_id"])
    assert plaintext.decode() == v["expected_plain"]
    # The vector's random16 is the decrypted prefix, so re-encryption is exact.
    again = encrypt(plaintext, key, v["receive_id"], random16=v["random16"].encode("ascii"))
    assert again == v["encrypt"]
    query = {
        "signature": sha1_signature(v["token"], v["timestamp"], v["nonce"]),
        "msg_signature": v["msg_signature"],
        "timestamp": v["timestamp"],
        "nonce": v["nonce"],
        "encrypt_type": "aes",
        "openid": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
    }
    body = (
        "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>"
        f"<Encrypt><![CDATA[{v['encrypt']}]]></Encrypt></xml>"
    ).encode()
    opened = oa.open_callback(_oa_config(v), query, body, now=int(v["timestamp"]))
    assert opened.encrypted
    assert opened.key == key
    assert opened.nonce == v["nonce"]
    assert opened.timestamp == v["timestamp"]
    message = opened.message
    assert isinstance(message, EventMessage)
    assert (message.to_user, message.from_user) == ("gh_97417a04a28d", query["openid"])
    assert message.create_time == int(v["timestamp"])
    assert message.event == "debug_demo"
    assert message.extra == (("debug_str", "hello world"),)


def check_oa_encrypt_fixed_random(v: Vector) -> None:
    key = decode_aes_key(v["encoding_aes_key"])
    random16 = v["random16"].encode("ascii")
    sealed = encrypt(v["plaintext"].encode(), key, v["receive_id"], random16=random16)
    assert sealed == v["encrypt"]
    assert sha1_signature(v["token"], v["timestamp"], v["nonce"], sealed) == v["msg_signature"]
    envelope = oa.seal_reply(
        v["plaintext"],
        config=_oa_config(v),
        key=key,
        timestamp=v["timestamp"],
        nonce=v["nonce"],
        random16=random16,
    )
    assert envelope == (
        f"<xml><Encrypt><![CDATA[{v['encrypt']}]]></Encrypt>"
        f"<MsgSignature><![CDATA[{v['msg_signature']}]]></MsgSignature>"
        f"<TimeStamp>{v['timestamp']}</TimeStamp><Nonce><![CDATA[{v['nonce']}]]></Nonce></xml>"
    )
    assert decrypt(sealed, key, receive_id=v["receive_id"]).decode() == v["plaintext"]


CHECKERS: dict[str, Callable[[Vector], None]] = {
    "wecom-verify-url": check_wecom_verify_url,
    "wecom-decrypt-xml": check_wecom_decrypt_xml,
    "oa-plain-signature": check_oa_plain_signature,
    "oa-plain-get-verify": check_oa_plain_get_verify,
    "oa-decrypt-xml": check_oa_decrypt_xml,
    "oa-encrypt-reply-fixed-random": check_oa_encrypt_fixed_random,
}


def test_the_vector_file_has_every_documented_vector() -> None:
    assert {v["id"] for v in VECTORS} >= {"B", "B2", "E0", "E0b", "E1", "E2"}


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector: Vector) -> None:
    checker = CHECKERS.get(vector["kind"])
    if checker is None:
        pytest.fail(f"vector {vector['id']}: no checker for kind {vector['kind']!r}")
    checker(vector)


# WeCom envelope variants, built on vector B's token and key.
B = next(v for v in VECTORS if v["id"] == "B")
B_KEY = decode_aes_key(B["encoding_aes_key"])


def _wecom_post(
    plaintext: bytes, receive_id: str, *, json_envelope: bool
) -> tuple[dict[str, str], bytes]:
    ciphertext = encrypt(plaintext, B_KEY, receive_id)
    query = {
        "msg_signature": sha1_signature(B["token"], B["timestamp"], B["nonce"], ciphertext),
        "timestamp": B["timestamp"],
        "nonce": B["nonce"],
    }
    if json_envelope:
        return query, json.dumps(
            {"tousername": receive_id, "encrypt": ciphertext, "agentid": ""}
        ).encode()
    return query, f"<xml><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>".encode()


def test_wecom_ai_bot_json_callback_with_empty_receive_id() -> None:
    message = {
        "msgid": "m1",
        "aibotid": "bot",
        "msgtype": "text",
        "from": {"userid": "u"},
        "text": {"content": "你好"},
    }
    query, body = _wecom_post(json.dumps(message).encode(), "", json_envelope=True)
    config = wecom.WeComConfig(token=B["token"], corp_id="", encoding_aes_key=B["encoding_aes_key"])
    fields, key = wecom.open_callback(config, query, body, now=int(B["timestamp"]))
    assert key == B_KEY
    assert fields["msgtype"] == "text"
    assert json.loads(fields["text"]) == {"content": "你好"}
    assert json.loads(fields["from"]) == {"userid": "u"}


def test_wecom_checks_the_corp_id_when_set() -> None:
    query, body = _wecom_post(b"<xml><A>1</A></xml>", "ww-other", json_envelope=False)
    with pytest.raises(KindbotError) as exc:
        wecom.open_callback(_wecom_config(B), query, body, now=int(B["timestamp"]))
    assert exc.value.code == "receive_id_mismatch"


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ({"msg_signature": "0" * 40}, "bad_signature", 403),
        ({"msg_signature": ""}, "missing_signature", 403),
        ({"nonce": "1"}, "bad_signature", 403),
        ({"timestamp": "1409659000"}, "bad_signature", 403),
    ],
)
def test_wecom_verify_url_refusals(change: dict[str, str], code: str, status: int) -> None:
    query = {k: B[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")} | change
    with pytest.raises(KindbotError) as exc:
        wecom.verify_url(_wecom_config(B), query)
    assert (exc.value.code, exc.value.http_status) == (code, status)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b'{"tousername": "x"}', "missing_field"),
        (b'{"encrypt": 5}', "missing_field"),
        (b"<xml><ToUserName>x</ToUserName></xml>", "missing_field"),
        (b"<!DOCTYPE xml [<!ENTITY a 'b'>]><xml><Encrypt>&a;</Encrypt></xml>", "forbidden_xml"),
    ],
)
def test_wecom_envelope_problems(body: bytes, code: str) -> None:
    query = {"msg_signature": "0" * 40, "timestamp": B["timestamp"], "nonce": B["nonce"]}
    with pytest.raises(KindbotError) as exc:
        wecom.open_callback(_wecom_config(B), query, body, now=int(B["timestamp"]))
    assert exc.value.code == code
    assert exc.value.http_status == 400


def test_wecom_post_signature_and_timestamp() -> None:
    query, body = _wecom_post(b"<xml><A>1</A></xml>", B["receive_id"], json_envelope=False)
    config = _wecom_config(B)
    now = int(B["timestamp"])
    assert wecom.open_callback(config, query, body, now=now).fields == {"A": "1"}
    for bad_query, bad_now, code in [
        ({**query, "msg_signature": query["msg_signature"][::-1]}, now, "bad_signature"),
        ({k: v for k, v in query.items() if k != "msg_signature"}, now, "missing_signature"),
        (query, now + 301, "stale_timestamp"),
    ]:
        with pytest.raises(KindbotError) as exc:
            wecom.open_callback(config, bad_query, body, now=bad_now)
        assert exc.value.code == code
