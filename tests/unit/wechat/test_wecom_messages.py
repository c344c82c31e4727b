"""WeCom's pure core: app-callback parsing, 微信客服 items, dedupe keys, routes and outcomes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kindbot.channels.wechat.xmlcodec import WeChatXmlError, parse_fields
from kindbot.channels.wecom.adapter import RouteKind, route_for
from kindbot.channels.wecom.api import client_msgid, outcome_for
from kindbot.channels.wecom.kf import kf_to_inbound_event, parse_sync_page
from kindbot.channels.wecom.messages import (
    EventMessage,
    ExternalContactEvent,
    ImageMessage,
    KfNotifyEvent,
    OtherMessage,
    TextMessage,
    UnknownMessage,
    WeComMessage,
    dedupe_key,
    parse_message,
    to_inbound_event,
)
from kindbot.core.events import DeliveryStatus, InboundEvent, InboundKind
from kindbot.pipeline.receive.wecom_pulls import welcome_code_to_use

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
T = int(NOW.timestamp())
HEAD = f"<ToUserName>ww0123456789abcdef</ToUserName><CreateTime>{T}</CreateTime>"


def parse(inner: str) -> WeComMessage:
    return parse_message(parse_fields(f"<xml>{HEAD}{inner}</xml>".encode()))


def event_of(msg: WeComMessage) -> InboundEvent:
    assert not isinstance(msg, KfNotifyEvent)
    return to_inbound_event(msg, channel_public_id="shop.wecom", received_at=NOW)


def test_a_member_text_becomes_a_text_event_from_the_member() -> None:
    msg = parse(
        "<FromUserName>zhangsan</FromUserName><MsgType>text</MsgType>"
        "<Content><![CDATA[运费怎么算]]></Content><MsgId>1001</MsgId><AgentID>1000002</AgentID>"
    )
    assert isinstance(msg, TextMessage)
    assert (msg.content, msg.agent_id, msg.msg_id) == ("运费怎么算", 1000002, "1001")
    event = to_inbound_event(msg, channel_public_id="shop.wecom", received_at=NOW)
    assert (event.sender, event.kind, event.text) == (
        "member:zhangsan",
        InboundKind.TEXT,
        "运费怎么算",
    )
    assert event.idempotency_key == "msg:zhangsan:1001"


def test_image_and_other_known_types_are_described() -> None:
    image = parse(
        "<FromUserName>u</FromUserName><MsgType>image</MsgType><PicUrl>http://p</PicUrl>"
        "<MediaId>m1</MediaId><MsgId>1</MsgId>"
    )
    link = parse(
        "<FromUserName>u</FromUserName><MsgType>link</MsgType><Title>新品</Title><MsgId>2</MsgId>"
    )
    assert isinstance(image, ImageMessage)
    assert image.media_id == "m1"
    assert isinstance(link, OtherMessage)
    assert event_of(image).kind is InboundKind.IMAGE
    described = event_of(link)
    assert (described.kind, described.text) == (InboundKind.OTHER, "[link 新品]")


@pytest.mark.parametrize(
    ("event", "key", "text"),
    [
        ("enter_agent", "", "[event enter_agent]"),
        ("click", "MENU_HELP", "[event click MENU_HELP]"),
        ("view", "https://example.com/a", "[event view https://example.com/a]"),
    ],
)
def test_app_events_keep_their_name_and_key(event: str, key: str, text: str) -> None:
    msg = parse(
        f"<FromUserName>lisi</FromUserName><MsgType>event</MsgType><Event>{event}</Event>"
        f"<EventKey>{key}</EventKey><AgentID>1</AgentID>"
    )
    assert isinstance(msg, EventMessage)
    inbound = event_of(msg)
    assert inbound.kind is InboundKind.EVENT
    assert (inbound.event, inbound.event_key or "", inbound.text) == (event, key, text)
    escaped = key.replace(":", "%3A")  # parts are escaped so they cannot run together
    assert inbound.idempotency_key == f"evt:lisi:{T}:{event}:{escaped}"


def test_an_added_customer_is_the_sender_and_the_welcome_code_is_kept() -> None:
    msg = parse(
        "<FromUserName>sys</FromUserName><MsgType>event</MsgType>"
        "<Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType>"
        "<UserID>zhangsan</UserID><ExternalUserID>wmCustomer1</ExternalUserID>"
        "<State>poster</State><WelcomeCode>CODE1</WelcomeCode>"
    )
    assert isinstance(msg, ExternalContactEvent)
    assert (msg.user_id, msg.external_user_id, msg.welcome_code) == (
        "zhangsan",
        "wmCustomer1",
        "CODE1",
    )
    inbound = to_inbound_event(msg, channel_public_id="shop.wecom", received_at=NOW)
    assert inbound.sender == "wmCustomer1"
    assert (inbound.event, inbound.event_key) == ("change_external_contact", "add_external_contact")
    assert inbound.idempotency_key == (
        f"evt:wmCustomer1:{T}:change_external_contact:add_external_contact:zhangsan"
    )


def test_two_customers_added_in_the_same_second_get_different_keys() -> None:
    def added(customer: str) -> str:
        msg = parse(
            "<FromUserName>sys</FromUserName><MsgType>event</MsgType>"
            "<Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType>"
            f"<UserID>zhangsan</UserID><ExternalUserID>{customer}</ExternalUserID>"
        )
        assert isinstance(msg, ExternalContactEvent)
        return dedupe_key(msg)

    assert added("wmA") != added("wmB")


def test_kf_notification_needs_no_sender() -> None:
    msg = parse(
        "<MsgType>event</MsgType><Event>kf_msg_or_event</Event><Token>TOK</Token>"
        "<OpenKfId>wkAAA</OpenKfId>"
    )
    assert isinstance(msg, KfNotifyEvent)
    assert (msg.token, msg.open_kfid, msg.from_user) == ("TOK", "wkAAA", "")
    assert dedupe_key(msg) == f"evt:wkAAA:{T}:kf_msg_or_event:TOK"


def test_unknown_types_are_recorded_not_refused() -> None:
    msg = parse("<FromUserName>u</FromUserName><MsgType>hologram</MsgType><Beam>1</Beam>")
    assert isinstance(msg, UnknownMessage)
    assert msg.fields == (("Beam", "1"),)
    inbound = event_of(msg)
    assert (inbound.kind, inbound.text) == (InboundKind.UNKNOWN, "[hologram]")


@pytest.mark.parametrize(
    ("inner", "code"),
    [
        ("<MsgType>text</MsgType><Content>hi</Content>", "missing_field"),  # no FromUserName
        ("<FromUserName>u</FromUserName><Content>hi</Content>", "missing_field"),  # no MsgType
        ("<MsgType>event</MsgType><Event>kf_msg_or_event</Event>", "missing_field"),  # no OpenKfId
    ],
)
def test_required_fields_are_named(inner: str, code: str) -> None:
    with pytest.raises(WeChatXmlError) as caught:
        parse(inner)
    assert caught.value.code == code


def test_a_malformed_create_time_is_refused() -> None:
    fields = {"ToUserName": "ww1", "CreateTime": "soon", "MsgType": "text", "FromUserName": "u"}
    with pytest.raises(WeChatXmlError) as caught:
        parse_message(fields)
    assert caught.value.code == "invalid_field"


# 微信客服 -----------------------------------------------------------------------------


def kf_item(
    msgid: str, origin: int = 3, msgtype: str = "text", **extra: object
) -> dict[str, object]:
    item: dict[str, object] = {
        "msgid": msgid, "open_kfid": "wkAAA", "external_userid": "wmC", "send_time": T,
        "origin": origin, "msgtype": msgtype,
    }  # fmt: skip
    if msgtype == "text":
        item["text"] = {"content": f"hello {msgid}"}
    return {**item, **extra}


def test_a_sync_page_maps_customer_messages_and_skips_the_rest() -> None:
    page = parse_sync_page(
        {
            "errcode": 0,
            "next_cursor": "CUR2",
            "has_more": 1,
            "msg_list": [
                kf_item("m1"),
                kf_item("m2", origin=5),  # a servicer's message
                kf_item("m3", origin=4, msgtype="event", event={"event_type": "enter_session"}),
                kf_item("m4", msgtype="location", location={"name": "北京"}),
                {"msgtype": "text"},  # no msgid
                "not an object",
            ],
        }
    )
    assert (page.next_cursor, page.has_more, page.skipped) == ("CUR2", True, 2)
    events = [
        kf_to_inbound_event(m, channel_public_id="s.w", received_at=NOW) for m in page.messages
    ]
    fed = [e for e in events if e is not None]
    assert [(e.sender, e.kind, e.text, e.idempotency_key) for e in fed] == [
        ("wmC", InboundKind.TEXT, "hello m1", "kf:m1"),
        ("wmC", InboundKind.OTHER, "[location 北京]", "kf:m4"),
    ]


def test_a_malformed_page_is_an_error() -> None:
    with pytest.raises(ValueError, match="msg_list"):
        parse_sync_page({"next_cursor": "c", "msg_list": {}})
    with pytest.raises(ValueError, match="next_cursor"):
        parse_sync_page({"next_cursor": 5, "msg_list": []})


def test_unknown_kf_types_are_unknown() -> None:
    page = parse_sync_page(
        {"next_cursor": "", "has_more": 0, "msg_list": [kf_item("m", msgtype="vr")]}
    )
    event = kf_to_inbound_event(page.messages[0], channel_public_id="s.w", received_at=NOW)
    assert event is not None
    assert (event.kind, event.text) == (InboundKind.UNKNOWN, "[vr]")
    assert not page.has_more


# Decisions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("errcode", "status", "meaning"),
    [
        (0, DeliveryStatus.DELIVERED, ""),
        (95018, DeliveryStatus.FAILED, "window closed"),
        (45015, DeliveryStatus.FAILED, "window closed"),
        (95001, DeliveryStatus.FAILED, "window quota"),
        (45047, DeliveryStatus.FAILED, "window quota"),
        (41051, DeliveryStatus.FAILED, "welcome code"),
        (81013, DeliveryStatus.FAILED, "not a member"),
        (45009, DeliveryStatus.RETRY, "quota"),
        (-1, DeliveryStatus.RETRY, "busy"),
        (42001, DeliveryStatus.RETRY, "expired"),
        (40058, DeliveryStatus.FAILED, "refused"),
    ],
)
def test_outcome_for_each_errcode(errcode: int, status: DeliveryStatus, meaning: str) -> None:
    outcome = outcome_for(errcode, "msg")
    assert outcome.status is status
    assert meaning in outcome.detail


def test_client_msgids_are_stable_and_within_the_alphabet() -> None:
    assert client_msgid("0123456789abcdef0123456789abcdef") == "0123456789abcdef0123456789abcdef"
    assert client_msgid("a.b/c" + "x" * 40) == "abc" + "x" * 29


@pytest.mark.parametrize(
    ("address", "kind", "target"),
    [
        ("member:zhangsan", RouteKind.MEMBER, "zhangsan"),
        ("wmCustomer1", RouteKind.CUSTOMER, "wmCustomer1"),
        ("sys", RouteKind.NOBODY, "sys"),
    ],
)
def test_route_for_each_address(address: str, kind: RouteKind, target: str) -> None:
    assert route_for(address) == route_for(address)
    assert (route_for(address).kind, route_for(address).target) == (kind, target)


def added(
    change: str = "add_external_contact", code: str | None = "C1", age: int = 0
) -> ExternalContactEvent:
    return ExternalContactEvent(
        msg_type="event", to_user="ww1", from_user="sys", create_time=T - age,
        change_type=change, user_id="zhangsan", external_user_id="wmC", welcome_code=code,
    )  # fmt: skip


def test_a_welcome_is_due_only_for_a_fresh_add_with_a_code_and_a_text() -> None:
    assert welcome_code_to_use(added(), welcome="欢迎", now=NOW) == "C1"
    assert welcome_code_to_use(added(age=20), welcome="欢迎", now=NOW) == "C1"
    assert welcome_code_to_use(added(age=21), welcome="欢迎", now=NOW) is None
    assert welcome_code_to_use(added(), welcome=None, now=NOW) is None
    assert welcome_code_to_use(added(code=None), welcome="欢迎", now=NOW) is None
    assert welcome_code_to_use(added("del_follow_user"), welcome="欢迎", now=NOW) is None
