"""Frozen types for every Official Account message and event.

:func:`parse_message` maps the fields of a callback's XML (see
:func:`kindbot.channels.wechat.xmlcodec.parse_fields`) to one of the types in
:data:`OAMessage`. The common fields (``ToUserName``, ``FromUserName``,
``CreateTime``, ``MsgType``) are required; type-specific fields are read
leniently (missing text → ``""`` or ``None``, missing or malformed numbers →
``None``) so that odd but authentic traffic is recorded, never refused. Unknown
``MsgType`` values become :class:`UnknownMessage`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from kindbot.channels.wechat.xmlcodec import WeChatXmlError, describe
from kindbot.core.edge import check_identifier, scoped_key
from kindbot.core.events import InboundEvent, InboundKind

Pairs = tuple[tuple[str, str], ...]
_QR_PREFIX = "qrscene_"


def _xml(tag: str, default: str | None = "") -> Any:
    """A dataclass field read from the XML child ``tag`` (see :func:`parse_message`)."""
    return field(default=default, metadata={"tag": tag})


@dataclass(frozen=True, slots=True, kw_only=True)
class _Common:
    msg_type: str  # MsgType as sent
    to_user: str  # the account's gh_ id
    from_user: str  # the user's OpenID
    create_time: int  # Unix seconds
    msg_id: str | None = None  # MsgId / MsgID; events mostly have none


@dataclass(frozen=True, slots=True, kw_only=True)
class TextMessage(_Common):
    content: str = _xml("Content")
    msg_data_id: str | None = _xml("MsgDataId", None)
    idx: str | None = _xml("Idx", None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageMessage(_Common):
    pic_url: str = _xml("PicUrl")
    media_id: str = _xml("MediaId")


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceMessage(_Common):
    media_id: str = _xml("MediaId")
    format: str = _xml("Format")
    recognition: str | None = _xml("Recognition", None)  # speech-to-text, if enabled


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoMessage(_Common):
    """MsgType ``video`` or ``shortvideo`` (``short`` tells which)."""

    media_id: str = _xml("MediaId")
    thumb_media_id: str = _xml("ThumbMediaId")

    @property
    def short(self) -> bool:
        return self.msg_type == "shortvideo"


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationMessage(_Common):
    latitude: float | None = _xml("Location_X", None)
    longitude: float | None = _xml("Location_Y", None)
    scale: int | None = _xml("Scale", None)
    label: str = _xml("Label")


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkMessage(_Common):
    title: str = _xml("Title")
    description: str = _xml("Description")
    url: str = _xml("Url")


@dataclass(frozen=True, slots=True, kw_only=True)
class MiniProgramPageMessage(_Common):
    app_id: str = _xml("AppId")
    title: str = _xml("Title")
    page_path: str = _xml("PagePath")
    thumb_url: str = _xml("ThumbUrl")
    thumb_media_id: str = _xml("ThumbMediaId")


@dataclass(frozen=True, slots=True, kw_only=True)
class EventMessage(_Common):
    """Any ``MsgType=event``; ``event`` is kept as sent (``subscribe``, ``SCAN`` …).

    ``extra`` holds every field not mapped to an attribute (``Status``,
    ``MenuId``, ``ScanCodeInfo`` …), in document order.
    """

    event: str = _xml("Event")
    event_key: str | None = _xml("EventKey", None)
    ticket: str | None = _xml("Ticket", None)
    latitude: float | None = _xml("Latitude", None)
    longitude: float | None = _xml("Longitude", None)
    precision: float | None = _xml("Precision", None)
    extra: Pairs = ()

    @property
    def qr_scene(self) -> str | None:
        """The QR scene: ``EventKey`` minus ``qrscene_`` on subscribe, as-is on SCAN."""
        key = self.event_key
        if self.event == "subscribe" and key and key.startswith(_QR_PREFIX):
            return key[len(_QR_PREFIX) :]
        return key if self.event == "SCAN" else None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownMessage(_Common):
    """A ``MsgType`` this module does not know; every other field is kept, in order."""

    fields: Pairs = ()


OAMessage = (
    TextMessage
    | ImageMessage
    | VoiceMessage
    | VideoMessage
    | LocationMessage
    | LinkMessage
    | MiniProgramPageMessage
    | EventMessage
    | UnknownMessage
)

_TYPES: dict[str, type[_Common]] = {
    "text": TextMessage,
    "image": ImageMessage,
    "voice": VoiceMessage,
    "video": VideoMessage,
    "shortvideo": VideoMessage,
    "location": LocationMessage,
    "link": LinkMessage,
    "miniprogrampage": MiniProgramPageMessage,
    "event": EventMessage,
}
EVENT_LIMIT = 64
"""Longest ``MsgType``/``Event`` accepted (they are stored in a 64-character column)."""
TIME_DIGITS = 12
_COMMON_TAGS = frozenset({"ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "MsgID"})


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise WeChatXmlError(f"required field {name} is missing", code="missing_field")
    return value


def _number(kind: Callable[[str], float | int]) -> Callable[[str], float | int | None]:
    def read(raw: str) -> float | int | None:
        try:
            return kind(raw.strip())
        except ValueError:
            return None

    return read


# How a field's raw text becomes its value, by the field's annotation.
_CONVERT: dict[str, Callable[[str], object]] = {
    "str": str,
    "str | None": lambda raw: raw or None,
    "float | None": _number(float),
    "int | None": _number(int),
}


def _common(fields: Mapping[str, str]) -> dict[str, Any]:
    msg_type = check_identifier(_required(fields, "MsgType"), field="MsgType", limit=EVENT_LIMIT)
    to_user = check_identifier(_required(fields, "ToUserName"), field="ToUserName")
    from_user = check_identifier(_required(fields, "FromUserName"), field="FromUserName")
    raw_time = _required(fields, "CreateTime")
    if not (raw_time.isascii() and raw_time.isdigit() and len(raw_time) <= TIME_DIGITS):
        raise WeChatXmlError(
            f"CreateTime is not an integer: {raw_time[:40]!r}", code="invalid_field"
        )
    msg_id = (fields.get("MsgId") or fields.get("MsgID") or "").strip() or None
    if msg_id is not None:
        check_identifier(msg_id, field="MsgId")
    return {
        "msg_type": msg_type,
        "to_user": to_user,
        "from_user": from_user,
        "create_time": int(raw_time),
        "msg_id": msg_id,
    }


def parse_message(fields: Mapping[str, str]) -> OAMessage:
    """The typed message for a callback's fields.

    Each attribute declared with ``_xml(tag)`` is read from that tag: text
    as is (missing → ``""`` or ``None``), numbers parsed (missing or
    malformed → ``None``). Raises :class:`WeChatXmlError` ``missing_field``
    (naming the field) when a common field is absent or empty, and
    ``invalid_field`` when ``CreateTime`` is not an integer; ``identifier_too_long``
    when ``FromUserName``, ``ToUserName``, ``MsgId`` or ``EventKey`` is over
    :data:`~kindbot.core.edge.IDENTIFIER_LIMIT` characters (``MsgType``,
    ``Event`` over :data:`EVENT_LIMIT`).
    """
    common = _common(fields)
    cls = _TYPES.get(common["msg_type"])
    if cls is None:
        return UnknownMessage(**common, fields=_rest(fields, _COMMON_TAGS))
    specific: dict[str, Any] = {}
    for spec in dataclasses.fields(cls):
        tag = spec.metadata.get("tag")
        if tag is not None and tag in fields:
            specific[spec.name] = _CONVERT[str(spec.type)](fields[tag])
    if cls is EventMessage:
        check_identifier(specific.get("event") or "", field="Event", limit=EVENT_LIMIT)
        check_identifier(specific.get("event_key") or "", field="EventKey")
        tags = {str(f.metadata["tag"]) for f in dataclasses.fields(cls) if "tag" in f.metadata}
        specific["extra"] = _rest(fields, _COMMON_TAGS | tags)
    return cast(OAMessage, cls(**common, **specific))


def _rest(fields: Mapping[str, str], known: frozenset[str] | set[str]) -> Pairs:
    return tuple((k, v) for k, v in fields.items() if k not in known)


def dedupe_key(msg: OAMessage) -> str:
    """The key under which WeChat's retries of ``msg`` collapse.

    Messages with an id: ``msg:{FromUserName}:{MsgId}`` (MsgIds collide across
    users, so the sender is part of the key). Events, and anything without an
    id: ``evt:{FromUserName}:{CreateTime}:{Event}:{EventKey}``, where a
    non-event's MsgType stands in for ``Event`` and a missing key is empty.
    Events always use the ``evt`` form, even when they carry a (mass-send) MsgID.
    Parts are joined by :func:`~kindbot.core.edge.scoped_key` (``:`` and ``%`` inside
    a part are escaped, so different parts never give the same key).
    """
    if isinstance(msg, EventMessage):
        return scoped_key(
            "evt", msg.from_user, str(msg.create_time), msg.event, msg.event_key or ""
        )
    if msg.msg_id:
        return scoped_key("msg", msg.from_user, msg.msg_id)
    return scoped_key("evt", msg.from_user, str(msg.create_time), msg.msg_type, "")


def _describe(msg: OAMessage) -> tuple[InboundKind, str]:
    if isinstance(msg, TextMessage):
        return InboundKind.TEXT, msg.content
    if isinstance(msg, VoiceMessage) and msg.recognition:
        return InboundKind.TEXT, msg.recognition
    if isinstance(msg, ImageMessage):
        return InboundKind.IMAGE, "[image]"
    if isinstance(msg, EventMessage):
        key = f" {msg.event_key}" if msg.event_key else ""
        return InboundKind.EVENT, describe(f"[event {msg.event}{key}]")
    if isinstance(msg, LocationMessage):
        lat = "?" if msg.latitude is None else f"{msg.latitude:g}"
        lng = "?" if msg.longitude is None else f"{msg.longitude:g}"
        label = f" {msg.label}" if msg.label else ""
        return InboundKind.OTHER, describe(f"[location {lat},{lng}{label}]")
    if isinstance(msg, LinkMessage | MiniProgramPageMessage):
        title = f" {msg.title}" if msg.title else ""
        return InboundKind.OTHER, describe(f"[{msg.msg_type}{title}]")
    if isinstance(msg, UnknownMessage):
        return InboundKind.UNKNOWN, describe(f"[{msg.msg_type}]")
    return InboundKind.OTHER, describe(f"[{msg.msg_type}]")


def to_inbound_event(
    msg: OAMessage, *, channel_public_id: str, received_at: datetime
) -> InboundEvent:
    """The pipeline's view of ``msg``.

    Text → ``TEXT`` with ``Content``; voice with ``Recognition`` → ``TEXT``
    with the recognised text; image → ``IMAGE``; event → ``EVENT`` with
    ``event``/``event_key`` and text ``[event NAME KEY]``; anything else →
    ``OTHER`` with a short description (``[location 39.9,116.3 北京]``,
    ``[link Title]``, ``[voice]`` …). ``sender`` is the OpenID and
    ``idempotency_key`` is :func:`dedupe_key`.
    """
    kind, text = _describe(msg)
    event = msg if isinstance(msg, EventMessage) else None
    return InboundEvent(
        channel_public_id=channel_public_id,
        sender=msg.from_user,
        kind=kind,
        text=text,
        idempotency_key=dedupe_key(msg),
        received_at=received_at,
        event=event.event if event else None,
        event_key=event.event_key if event else None,
    )
