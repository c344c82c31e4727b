"""Safe XML parsing, CDATA escaping and every message type of the protocol table."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from kindbot.channels.wechat.xmlcodec import (
    MAX_BODY,
    WeChatXmlError,
    cdata,
    parse_fields,
    render_fields,
)
from kindbot.channels.wechat_oa import codec as oa
from kindbot.channels.wechat_oa.messages import (
    EventMessage,
    ImageMessage,
    LinkMessage,
    LocationMessage,
    MiniProgramPageMessage,
    OAMessage,
    TextMessage,
    UnknownMessage,
    VideoMessage,
    VoiceMessage,
    dedupe_key,
    parse_message,
    to_inbound_event,
)
from kindbot.core.events import InboundKind

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
HEAD = (
    "<ToUserName><![CDATA[gh_123]]></ToUserName>"
    "<FromUserName><![CDATA[oUser]]></FromUserName>"
    "<CreateTime>1348831860</CreateTime>"
)


def _msg(msg_type: str, rest: str) -> OAMessage:
    body = f"<xml>{HEAD}<MsgType><![CDATA[{msg_type}]]></MsgType>{rest}</xml>"
    return parse_message(parse_fields(body.encode("utf-8")))


def _event(event: str, rest: str = "") -> EventMessage:
    msg = _msg("event", f"<Event><![CDATA[{event}]]></Event>{rest}")
    assert isinstance(msg, EventMessage)
    return msg


def _inbound(msg: OAMessage) -> tuple[InboundKind, str]:
    event = to_inbound_event(msg, channel_public_id="t.oa", received_at=NOW)
    assert event.sender == "oUser"
    assert event.idempotency_key == dedupe_key(msg)
    return event.kind, event.text


def test_text() -> None:
    msg = _msg("text", "<Content><![CDATA[你好 <b>]]></Content><MsgId>1234567890123456</MsgId>")
    assert msg == TextMessage(
        msg_type="text",
        to_user="gh_123",
        from_user="oUser",
        create_time=1348831860,
        msg_id="1234567890123456",
        content="你好 <b>",
    )
    assert _inbound(msg) == (InboundKind.TEXT, "你好 <b>")
    with pytest.raises(dataclasses.FrozenInstanceError):
        msg.content = "x"  # type: ignore[misc]


def test_text_with_article_reference() -> None:
    msg = _msg("text", "<Content>a</Content><MsgId>1</MsgId><MsgDataId>99</MsgDataId><Idx>2</Idx>")
    assert isinstance(msg, TextMessage)
    assert (msg.msg_data_id, msg.idx) == ("99", "2")


def test_image() -> None:
    msg = _msg("image", "<PicUrl>http://p/1.jpg</PicUrl><MediaId>m1</MediaId><MsgId>2</MsgId>")
    assert isinstance(msg, ImageMessage)
    assert (msg.pic_url, msg.media_id, msg.msg_id) == ("http://p/1.jpg", "m1", "2")
    assert _inbound(msg) == (InboundKind.IMAGE, "[image]")


def test_voice_with_and_without_recognition() -> None:
    recognised = _msg(
        "voice",
        "<MediaId>v</MediaId><Format>amr</Format><Recognition>腾讯微信团队</Recognition>"
        "<MsgId>3</MsgId>",
    )
    assert isinstance(recognised, VoiceMessage)
    assert (recognised.format, recognised.recognition) == ("amr", "腾讯微信团队")
    assert _inbound(recognised) == (InboundKind.TEXT, "腾讯微信团队")
    plain = _msg("voice", "<MediaId>v</MediaId><Format>amr</Format><MsgId>4</MsgId>")
    assert isinstance(plain, VoiceMessage)
    assert plain.recognition is None
    assert _inbound(plain) == (InboundKind.OTHER, "[voice]")


@pytest.mark.parametrize(("msg_type", "short"), [("video", False), ("shortvideo", True)])
def test_video_and_shortvideo(msg_type: str, short: bool) -> None:
    msg = _msg(msg_type, "<MediaId>m</MediaId><ThumbMediaId>t</ThumbMediaId><MsgId>5</MsgId>")
    assert isinstance(msg, VideoMessage)
    assert (msg.media_id, msg.thumb_media_id, msg.short) == ("m", "t", short)
    assert _inbound(msg) == (InboundKind.OTHER, f"[{msg_type}]")


def test_location() -> None:
    msg = _msg(
        "location",
        "<Location_X>39.9</Location_X><Location_Y>116.3</Location_Y><Scale>20</Scale>"
        "<Label><![CDATA[北京]]></Label><MsgId>6</MsgId>",
    )
    assert isinstance(msg, LocationMessage)
    assert (msg.latitude, msg.longitude, msg.scale, msg.label) == (39.9, 116.3, 20, "北京")
    assert _inbound(msg) == (InboundKind.OTHER, "[location 39.9,116.3 北京]")


def test_location_with_malformed_numbers_is_still_accepted() -> None:
    msg = _msg("location", "<Location_X>north</Location_X><Scale>x</Scale><MsgId>6</MsgId>")
    assert isinstance(msg, LocationMessage)
    assert (msg.latitude, msg.longitude, msg.scale, msg.label) == (None, None, None, "")
    assert _inbound(msg) == (InboundKind.OTHER, "[location ?,?]")


def test_link() -> None:
    msg = _msg(
        "link",
        "<Title>Title</Title><Description>D</Description><Url>http://u</Url><MsgId>7</MsgId>",
    )
    assert isinstance(msg, LinkMessage)
    assert (msg.title, msg.description, msg.url) == ("Title", "D", "http://u")
    assert _inbound(msg) == (InboundKind.OTHER, "[link Title]")


def test_miniprogrampage() -> None:
    msg = _msg(
        "miniprogrampage",
        "<AppId>wxapp</AppId><Title>Shop</Title><PagePath>pages/i</PagePath>"
        "<ThumbUrl>http://t</ThumbUrl><ThumbMediaId>tm</ThumbMediaId><MsgId>8</MsgId>",
    )
    assert isinstance(msg, MiniProgramPageMessage)
    assert (msg.app_id, msg.title, msg.page_path, msg.thumb_url, msg.thumb_media_id) == (
        "wxapp",
        "Shop",
        "pages/i",
        "http://t",
        "tm",
    )
    assert _inbound(msg) == (InboundKind.OTHER, "[miniprogrampage Shop]")


def test_subscribe_plain_and_via_qr_code() -> None:
    plain = _event("subscribe")
    assert (plain.event_key, plain.ticket, plain.qr_scene) == (None, None, None)
    assert _inbound(plain) == (InboundKind.EVENT, "[event subscribe]")
    via_qr = _event("subscribe", "<EventKey>qrscene_123</EventKey><Ticket>TICKET</Ticket>")
    assert (via_qr.event_key, via_qr.ticket, via_qr.qr_scene) == ("qrscene_123", "TICKET", "123")
    inbound = to_inbound_event(via_qr, channel_public_id="t.oa", received_at=NOW)
    assert (inbound.kind, inbound.event, inbound.event_key) == (
        InboundKind.EVENT,
        "subscribe",
        "qrscene_123",
    )


POPUP = (
    "<SubscribeMsgPopupEvent><List><TemplateId>t</TemplateId>"
    "<SubscribeStatusString>accept</SubscribeStatusString></List></SubscribeMsgPopupEvent>"
)
SCAN_INFO = "<ScanCodeInfo><ScanType>qrcode</ScanType><ScanResult>1</ScanResult></ScanCodeInfo>"


@pytest.mark.parametrize(
    ("event", "rest", "key"),
    [
        ("unsubscribe", "", None),
        ("SCAN", "<EventKey>123</EventKey><Ticket>T</Ticket>", "123"),
        ("CLICK", "<EventKey>MENU_1</EventKey>", "MENU_1"),
        ("VIEW", "<EventKey>https://example.com/x</EventKey><MenuId>7</MenuId>", "https://example.com/x"),
        ("MASSSENDJOBFINISH", "<MsgID>1000001625</MsgID><Status>send success</Status>", None),
        ("TEMPLATESENDJOBFINISH", "<MsgID>200163836</MsgID><Status>success</Status>", None),
        ("subscribe_msg_popup_event", POPUP, None),
        ("kf_create_session", "<KfAccount>test1@test</KfAccount>", None),
        ("kf_close_session", "<KfAccount>test1@test</KfAccount>", None),
        ("scancode_push", f"<EventKey>k</EventKey>{SCAN_INFO}", "k"),
    ],
)  # fmt: skip
def test_events(event: str, rest: str, key: str | None) -> None:
    msg = _event(event, rest)
    assert (msg.event, msg.event_key) == (event, key)
    kind, text = _inbound(msg)
    assert kind is InboundKind.EVENT
    assert text.startswith(f"[event {event}")


def test_location_event() -> None:
    msg = _event(
        "LOCATION",
        "<Latitude>23.137466</Latitude><Longitude>113.352425</Longitude>"
        "<Precision>119.385040</Precision>",
    )
    assert (msg.latitude, msg.longitude, msg.precision) == (23.137466, 113.352425, 119.38504)


def test_mass_send_events_keep_msg_id_and_extra_fields() -> None:
    msg = _event("MASSSENDJOBFINISH", "<MsgID>1000001625</MsgID><Status>send success</Status>")
    assert msg.msg_id == "1000001625"
    assert msg.extra == (("Status", "send success"),)
    assert dedupe_key(msg) == "evt:oUser:1348831860:MASSSENDJOBFINISH:"


def test_nested_elements_are_kept_as_inner_xml() -> None:
    msg = _event(
        "scancode_push",
        "<ScanCodeInfo><ScanType>qrcode</ScanType><ScanResult>a&amp;b</ScanResult></ScanCodeInfo>",
    )
    inner = dict(msg.extra)["ScanCodeInfo"]
    assert parse_fields(f"<xml>{inner}</xml>".encode()) == {
        "ScanType": "qrcode",
        "ScanResult": "a&b",
    }


def test_unknown_msg_type_is_accepted_and_recorded() -> None:
    msg = _msg("hologram", "<Beam>on</Beam><MsgId>9</MsgId>")
    assert msg == UnknownMessage(
        msg_type="hologram",
        to_user="gh_123",
        from_user="oUser",
        create_time=1348831860,
        msg_id="9",
        fields=(("Beam", "on"),),
    )
    assert _inbound(msg) == (InboundKind.UNKNOWN, "[hologram]")


def test_msg_id_spelled_msg_id_upper() -> None:
    msg = _msg("text", "<Content>hi</Content><MsgID>42</MsgID>")
    assert msg.msg_id == "42"
    assert dedupe_key(msg) == "msg:oUser:42"


@pytest.mark.parametrize("missing", ["ToUserName", "FromUserName", "CreateTime", "MsgType"])
def test_missing_common_fields_are_named(missing: str) -> None:
    fields = parse_fields(f"<xml>{HEAD}<MsgType>text</MsgType><Content>x</Content></xml>".encode())
    del fields[missing]
    with pytest.raises(WeChatXmlError) as exc:
        parse_message(fields)
    assert exc.value.code == "missing_field"
    assert missing in exc.value.message


@pytest.mark.parametrize("bad", ["soon", "-1", "1.5", "²"])
def test_non_integer_create_time_is_refused(bad: str) -> None:
    fields = {"ToUserName": "g", "FromUserName": "o", "CreateTime": bad, "MsgType": "text"}
    with pytest.raises(WeChatXmlError) as exc:
        parse_message(fields)
    assert exc.value.code == "invalid_field"


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>&xxe;</ToUserName></xml>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml><Content>&lol3;</Content></xml>"""
EXTERNAL_DTD = b'<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://evil/x.dtd"><xml/>'


@pytest.mark.parametrize("payload", [XXE, BILLION_LAUGHS, EXTERNAL_DTD], ids=["xxe", "lol", "dtd"])
def test_dtds_and_entities_are_forbidden(payload: bytes) -> None:
    with pytest.raises(WeChatXmlError) as exc:
        parse_fields(payload)
    assert exc.value.code == "forbidden_xml"
    assert exc.value.http_status == 400


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<xml><a>1</a>", "invalid_xml"),
        (b"", "invalid_xml"),
        (b"not xml", "invalid_xml"),
        (b"<root><a>1</a></root>", "invalid_xml"),
        (b"<xml>" + b"x" * MAX_BODY + b"</xml>", "xml_too_large"),
    ],
)
def test_malformed_bodies(body: bytes, code: str) -> None:
    with pytest.raises(WeChatXmlError) as exc:
        parse_fields(body)
    assert exc.value.code == code


def test_first_of_repeated_tags_wins_and_cdata_is_unwrapped() -> None:
    assert parse_fields(b"<xml><A><![CDATA[ x ]]></A><A>2</A><B/></xml>") == {"A": " x ", "B": ""}


def test_cdata_splits_the_terminator() -> None:
    assert cdata("a]]>b") == "<![CDATA[a]]]]><![CDATA[>b]]>"
    assert cdata("\x00\x08ok\t\n\x1f\ufffe") == "<![CDATA[ok\t\n]]>"


def test_reply_content_cannot_break_out_of_cdata() -> None:
    content = "a]]><xml>evil</xml>"
    reply = oa.render_text_reply("oUser", "gh_123", content, 1700000000)
    fields = parse_fields(reply.encode("utf-8"))
    assert fields["Content"] == content
    assert set(fields) == {"ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"}
    nasty = "]]>]]]>>]]><![CDATA[<!DOCTYPE x>&amp;"
    assert parse_fields(render_fields([("C", nasty)]).encode())["C"] == nasty


def test_render_fields_types_and_names() -> None:
    assert render_fields([("A", "x"), ("N", 3)]) == "<xml><A><![CDATA[x]]></A><N>3</N></xml>"
    with pytest.raises(ValueError, match="element name"):
        render_fields([("A><evil", "x")])
    with pytest.raises(TypeError):
        render_fields([("A", True)])
