"""Frozen types for WeCom app-callback messages and events, and their pipeline view.

:func:`parse_message` maps the fields of a decrypted callback (see
:func:`kindbot.channels.wecom.codec.open_callback`) to one of
:data:`WeComMessage`. ``ToUserName`` (the CorpID), ``CreateTime`` and
``MsgType`` are always required; ``FromUserName`` (the member's UserID, or
``sys``) is required for messages but not for events — ``kf_msg_or_event``
carries none. Other fields are read leniently; unknown ``MsgType`` values
become :class:`UnknownMessage` (recorded, never answered).

Addresses (``InboundEvent.sender``): a member is ``member:{UserID}``; an
external user (a 微信客服 customer, or a customer who added a member) is the
bare ``external_userid``. WeCom ids never contain ``:``, so the two cannot
collide, and the adapter can tell how to reach a contact from its address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from kindbot.channels.wechat.xmlcodec import WeChatXmlError, describe
from kindbot.core.edge import IDENTIFIER_LIMIT, check_identifier, scoped_key
from kindbot.core.events import InboundEvent, InboundKind

Pairs = tuple[tuple[str, str], ...]
MEMBER_PREFIX = "member:"
SYSTEM_SENDER = "sys"
EXTERNAL_CONTACT_EVENT = "change_external_contact"
KF_EVENT = "kf_msg_or_event"
ADD_EXTERNAL_CONTACT = "add_external_contact"
OTHER_TYPES = frozenset({"voice", "video", "location", "link", "file"})
_COMMON_TAGS = frozenset(
    {"ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "MsgID", "AgentID"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Common:
    msg_type: str  # MsgType as sent
    to_user: str  # the CorpID
    from_user: str  # the member's UserID, "sys" for system events, "" when absent
    create_time: int  # Unix seconds
    agent_id: int | None = None
    msg_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TextMessage(_Common):
    content: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageMessage(_Common):
    pic_url: str
    media_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherMessage(_Common):
    """A known non-text message (voice, video, location, link, file); ``title`` when it has one."""

    title: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EventMessage(_Common):
    """Any app event not typed below (``enter_agent``, ``click``, ``view`` …).

    ``extra`` keeps every field not mapped to an attribute, in document order.
    """

    event: str
    event_key: str | None = None
    extra: Pairs = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalContactEvent(_Common):
    """``change_external_contact``: a customer added (or edited, deleted …) a member.

    ``welcome_code`` is present on ``add_external_contact`` when the app may
    send the welcome message (valid once, within 20 s).
    """

    change_type: str
    user_id: str
    external_user_id: str
    state: str | None = None
    welcome_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class KfNotifyEvent(_Common):
    """``kf_msg_or_event``: 微信客服 has news for ``open_kfid``; pull it with ``kf/sync_msg``."""

    token: str
    open_kfid: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownMessage(_Common):
    """A ``MsgType`` this module does not know; every other field is kept, in order."""

    fields: Pairs = ()


AppMessage = (
    TextMessage | ImageMessage | OtherMessage | EventMessage | ExternalContactEvent | UnknownMessage
)
"""Everything that is fed to the pipeline."""
WeComMessage = AppMessage | KfNotifyEvent


TIME_DIGITS = 12
EVENT_LIMIT = 64
"""Longest ``MsgType``/``Event``/``OpenKfId`` accepted (64-character columns)."""
_LIMITS = {"MsgType": EVENT_LIMIT, "Event": EVENT_LIMIT, "OpenKfId": EVENT_LIMIT}
_UNBOUNDED = frozenset({"Content", "PicUrl", "MediaId", "Title", "Label", "FileName"})


def _bounded(name: str, value: str) -> str:
    """``value``, refused (400 ``identifier_too_long``) when an identifier field is too long."""
    if name in _UNBOUNDED:
        return value
    return check_identifier(value, field=name, limit=_LIMITS.get(name, IDENTIFIER_LIMIT))


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise WeChatXmlError(f"required field {name} is missing", code="missing_field")
    return _bounded(name, value)


def _optional(fields: Mapping[str, str], name: str) -> str | None:
    return _bounded(name, fields.get(name, "").strip()) or None


def _stripped(fields: Mapping[str, str], name: str) -> str:
    return _bounded(name, fields.get(name, "").strip())


class _Head(TypedDict):
    """The common fields, spread into each message type's constructor."""

    msg_type: str
    to_user: str
    from_user: str
    create_time: int
    agent_id: int | None
    msg_id: str | None


def _digits(raw: str) -> bool:
    """ASCII decimal digits, few enough to be a plausible id or time."""
    return raw.isascii() and raw.isdigit() and len(raw) <= TIME_DIGITS


def _head(fields: Mapping[str, str]) -> _Head:
    msg_type = _required(fields, "MsgType")
    raw_time = _required(fields, "CreateTime")
    if not _digits(raw_time):
        raise WeChatXmlError(
            f"CreateTime is not an integer: {raw_time[:40]!r}", code="invalid_field"
        )
    agent = fields.get("AgentID", "").strip()
    from_user = _stripped(fields, "FromUserName")
    if msg_type != "event" and not from_user:
        raise WeChatXmlError("required field FromUserName is missing", code="missing_field")
    return _Head(
        msg_type=msg_type,
        to_user=_required(fields, "ToUserName"),
        from_user=from_user,
        create_time=int(raw_time),
        agent_id=int(agent) if _digits(agent) else None,
        msg_id=_optional(fields, "MsgId") or _optional(fields, "MsgID"),
    )


def _rest(fields: Mapping[str, str], known: frozenset[str]) -> Pairs:
    return tuple((k, v) for k, v in fields.items() if k not in known)


def _event(fields: Mapping[str, str], head: _Head) -> WeComMessage:
    event = _required(fields, "Event")
    if event == KF_EVENT:
        return KfNotifyEvent(
            **head,
            token=_stripped(fields, "Token"),
            open_kfid=_required(fields, "OpenKfId"),
        )
    change_type, customer = _optional(fields, "ChangeType"), _optional(fields, "ExternalUserID")
    if event == EXTERNAL_CONTACT_EVENT and change_type and customer:
        return ExternalContactEvent(
            **head,
            change_type=change_type,
            user_id=_stripped(fields, "UserID"),
            external_user_id=customer,
            state=_optional(fields, "State"),
            welcome_code=_optional(fields, "WelcomeCode"),
        )
    known = _COMMON_TAGS | {"Event", "EventKey"}
    return EventMessage(
        **head,
        event=event,
        event_key=_bounded("EventKey", fields.get("EventKey", "")) or None,
        extra=_rest(fields, known),
    )


def parse_message(fields: Mapping[str, str]) -> WeComMessage:
    """The typed message for a decrypted callback's fields.

    Raises :class:`WeChatXmlError` ``missing_field`` (naming the field) when a
    required field is absent or empty, and ``invalid_field`` when
    ``CreateTime`` is not an integer. A ``kf_msg_or_event`` needs ``OpenKfId``;
    a ``change_external_contact`` without ``ChangeType`` or ``ExternalUserID``
    is kept as a plain :class:`EventMessage`.
    """
    head = _head(fields)
    msg_type = head["msg_type"]
    if msg_type == "text":
        return TextMessage(**head, content=fields.get("Content", ""))
    if msg_type == "image":
        return ImageMessage(
            **head,
            pic_url=fields.get("PicUrl", ""),
            media_id=fields.get("MediaId", ""),
        )
    if msg_type == "event":
        return _event(fields, head)
    if msg_type in OTHER_TYPES:
        title = fields.get("Title") or fields.get("Label") or fields.get("FileName") or ""
        return OtherMessage(**head, title=title.strip())
    return UnknownMessage(**head, fields=_rest(fields, _COMMON_TAGS))


def member_address(user_id: str) -> str:
    """The contact address of a member; ``sys`` (or no sender) is the platform, kept bare."""
    if not user_id or user_id == SYSTEM_SENDER:
        return SYSTEM_SENDER
    return f"{MEMBER_PREFIX}{user_id}"


def dedupe_key(msg: WeComMessage) -> str:
    """The key under which WeCom's retries of ``msg`` collapse.

    Messages with an id: ``msg:{FromUserName}:{MsgId}``. Events:
    ``evt:{FromUserName}:{CreateTime}:{Event}:{EventKey}``, except that a
    ``change_external_contact`` is keyed by its subject —
    ``evt:{ExternalUserID}:{CreateTime}:change_external_contact:{ChangeType}:{UserID}``
    (its FromUserName is always ``sys``, which would merge different
    customers) — and a ``kf_msg_or_event`` by ``evt:{OpenKfId}:{CreateTime}:
    kf_msg_or_event:{Token}``. Anything else without an id uses its MsgType.
    Parts are joined by :func:`~kindbot.core.edge.scoped_key` (``:`` and ``%`` escaped).
    """
    time = str(msg.create_time)
    if isinstance(msg, ExternalContactEvent):
        who, change = msg.external_user_id, msg.change_type
        return scoped_key("evt", who, time, EXTERNAL_CONTACT_EVENT, change, msg.user_id)
    if isinstance(msg, KfNotifyEvent):
        return scoped_key("evt", msg.open_kfid, time, KF_EVENT, msg.token)
    if isinstance(msg, EventMessage):
        return scoped_key("evt", msg.from_user, time, msg.event, msg.event_key or "")
    if msg.msg_id:
        return scoped_key("msg", msg.from_user, msg.msg_id)
    return scoped_key("evt", msg.from_user, time, msg.msg_type, "")


def _describe(msg: AppMessage) -> tuple[InboundKind, str]:
    if isinstance(msg, TextMessage):
        return InboundKind.TEXT, msg.content
    if isinstance(msg, ImageMessage):
        return InboundKind.IMAGE, "[image]"
    if isinstance(msg, ExternalContactEvent):
        return InboundKind.EVENT, f"[event {EXTERNAL_CONTACT_EVENT} {msg.change_type}]"
    if isinstance(msg, EventMessage):
        key = f" {msg.event_key}" if msg.event_key else ""
        return InboundKind.EVENT, describe(f"[event {msg.event}{key}]")
    if isinstance(msg, OtherMessage):
        title = f" {msg.title}" if msg.title else ""
        return InboundKind.OTHER, describe(f"[{msg.msg_type}{title}]")
    return InboundKind.UNKNOWN, describe(f"[{msg.msg_type}]")


def to_inbound_event(
    msg: AppMessage, *, channel_public_id: str, received_at: datetime
) -> InboundEvent:
    """The pipeline's view of ``msg``.

    Text → ``TEXT``; image → ``IMAGE``; voice, video, location, link, file →
    ``OTHER`` with a short description; events → ``EVENT`` (``event`` as sent;
    ``event_key`` = EventKey, or the ChangeType of ``change_external_contact``);
    unknown types → ``UNKNOWN``. ``sender`` is :func:`member_address` of
    FromUserName, except for ``change_external_contact``, whose sender is the
    customer (``ExternalUserID``). ``idempotency_key`` is :func:`dedupe_key`.
    """
    kind, text = _describe(msg)
    sender = member_address(msg.from_user)
    event: str | None = None
    event_key: str | None = None
    if isinstance(msg, ExternalContactEvent):
        sender, event, event_key = msg.external_user_id, EXTERNAL_CONTACT_EVENT, msg.change_type
    elif isinstance(msg, EventMessage):
        event, event_key = msg.event, msg.event_key
    return InboundEvent(
        channel_public_id=channel_public_id,
        sender=sender,
        kind=kind,
        text=text,
        idempotency_key=dedupe_key(msg),
        received_at=received_at,
        event=event,
        event_key=event_key,
    )
