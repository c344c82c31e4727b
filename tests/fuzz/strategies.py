"""Hypothesis strategies for what a stranger sends: WeChat XML, sealed envelopes, JSON."""

from __future__ import annotations

import json

from hypothesis import strategies as st

from kindbot.channels.wechat.crypto import decode_aes_key, encrypt
from kindbot.channels.wechat.xmlcodec import render_fields
from tests.fuzz.support import nasty_text, seal_raw

AES = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
KEY = decode_aes_key(AES)
NOW = 1_764_064_800
TS = str(NOW)

TAGS = [
    "ToUserName",
    "FromUserName",
    "CreateTime",
    "MsgType",
    "Content",
    "MsgId",
    "Event",
    "EventKey",
    "AgentID",
    "ExternalUserID",
    "ChangeType",
    "OpenKfId",
    "Token",
    "Encrypt",
]
MSG_TYPES = ["text", "image", "voice", "event", "location", "link", "hologram", ""]
EVENTS = [
    "subscribe",
    "unsubscribe",
    "CLICK",
    "SCAN",
    "change_external_contact",
    "kf_msg_or_event",
    "enter_agent",
]

field_value = st.one_of(
    nasty_text,
    st.sampled_from(
        MSG_TYPES + EVENTS + [TS, "1001", "o" * 129, "9" * 5000, "add_external_contact"]
    ),
    st.integers(min_value=0, max_value=2**40).map(str),
)


@st.composite
def message_fields(draw: st.DrawFn) -> list[tuple[str, str | int]]:
    """A message's fields: mostly the real ones with odd values, sometimes odd tags."""
    base: list[tuple[str, str | int]] = [
        ("ToUserName", "gh_0123456789ab"),
        ("FromUserName", draw(st.sampled_from(["openid-1", "sys", "zhangsan"]))),
        ("CreateTime", NOW),
        ("MsgType", draw(st.sampled_from(MSG_TYPES))),
    ]
    extra = draw(st.lists(st.tuples(st.sampled_from(TAGS), field_value), max_size=6))
    drop = draw(st.sets(st.integers(0, 3), max_size=2))
    return [item for i, item in enumerate(base) if i not in drop] + extra


def nested(depth: int, inner: str = "x") -> str:
    return "<a>" * depth + inner + "</a>" * depth


@st.composite
def xml_bodies(draw: st.DrawFn) -> bytes:
    """Valid message XML, then one mutation."""
    xml = render_fields(draw(message_fields()))
    mutation = draw(st.sampled_from(["none", "bytes", "deep", "attr", "cut", "splice", "wide"]))
    if mutation == "bytes":
        return draw(st.binary(max_size=300))
    if mutation == "deep":
        depth = draw(st.sampled_from([7, 8, 9, 50, 3000]))
        return xml.replace("</xml>", nested(depth) + "</xml>").encode()
    if mutation == "attr":
        return xml.replace("<xml>", f'<xml a="{"v" * draw(st.integers(0, 70000))}">').encode()
    if mutation == "cut":
        return xml.encode()[: draw(st.integers(0, len(xml)))]
    if mutation == "splice":
        junk = draw(
            st.sampled_from(
                [
                    "<!DOCTYPE x>",
                    "&#0;",
                    "&#xD800;",
                    "<![CDATA[",
                    "&lol;",
                    "<?xml version='1.0' encoding='utf-16'?>",
                    "\x00",
                    "\udfff",
                ]
            )
        )
        at = draw(st.integers(0, len(xml)))
        return (xml[:at] + junk + xml[at:]).encode("utf-8", "surrogatepass")
    if mutation == "wide":
        return ("<xml>" + "<a/>" * draw(st.integers(1000, 1100)) + "</xml>").encode()
    return xml.encode()


@st.composite
def ciphertexts(draw: st.DrawFn, receive_id: str) -> str:
    """A sealed message, then one mutation of the envelope or of what it seals."""
    body = draw(xml_bodies())
    mutation = draw(st.sampled_from(["none", "raw", "b64", "strip", "wrong_id", "json", "text"]))
    if mutation == "raw":  # arbitrary plaintext: bad padding, bad length field …
        blocks = draw(st.integers(1, 6))
        return seal_raw(KEY, draw(st.binary(min_size=16 * blocks, max_size=16 * blocks)))
    sealed = encrypt(body, KEY, receive_id)
    if mutation == "b64":
        at = draw(st.integers(0, len(sealed) - 1))
        return sealed[:at] + draw(st.sampled_from(["*", "=", " ", "é", "\ud800", ""])) + sealed[at:]
    if mutation == "strip":
        return sealed.rstrip("=")[: draw(st.integers(0, len(sealed)))]
    if mutation == "wrong_id":
        return encrypt(body, KEY, draw(st.sampled_from(["", "wxother", receive_id + "x"])))
    if mutation == "json":
        document = draw(
            st.sampled_from(
                [
                    '{"msgtype":"text","text":{"content":"\\ud800"}}',
                    '{"a":' + "[" * 3000 + "]" * 3000 + "}",
                    "[1]",
                    "{}",
                    '{"from":{"userid":"u"},"msgid":"' + "9" * 200 + '"}',
                ]
            )
        )
        return encrypt(document.encode(), KEY, receive_id)
    if mutation == "text":
        return draw(nasty_text)
    return sealed


FIELDS = ["user", "text", "id", "name", "client_id", "type"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    nasty_text,
    st.sampled_from(["u" * 201, "x" * 4001, "  ", "c" * 101]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(nasty_text, inner, max_size=3)
    ),
    max_leaves=8,
)


def dumped(document: object) -> bytes:
    """JSON text with lone surrogates escaped (``"\\ud800"``), as a client can send."""
    return json.dumps(document).encode("ascii")


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    """Mostly objects with the expected fields holding odd values; sometimes raw junk."""
    kind = draw(st.sampled_from(["object", "object", "any", "bytes", "deep", "number", "cut"]))
    if kind == "any":
        return dumped(draw(values))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "deep":
        depth = draw(st.sampled_from([31, 32, 33, 5000]))
        return b'{"user":"u","text":"t","x":' + b"[" * depth + b"]" * depth + b"}"
    if kind == "number":
        return b'{"user":"u","text":"t","n":' + b"7" * draw(st.integers(4000, 5000)) + b"}"
    document = draw(st.fixed_dictionaries({}, optional={f: values for f in FIELDS}))
    body = dumped(document)
    if kind == "cut":
        return body[: draw(st.integers(0, len(body)))]
    return body
