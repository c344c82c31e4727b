"""微信客服 (WeChat customer service through WeCom) messages, as pure functions.

The callback only says that something arrived (``kf_msg_or_event``); the
messages are pulled with ``kf/sync_msg``. :func:`parse_sync_page` turns one
answer into a frozen :class:`KfSyncPage`; :func:`kf_to_inbound_event` maps a
customer's message (``origin`` 3) to the pipeline's view. Messages from
servicers (5) and system events (4) are not customer input and map to ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from kindbot.core.edge import check_identifier, check_text
from kindbot.core.errors import BadRequestError
from kindbot.core.events import InboundEvent, InboundKind

MAX_SYNC_LIMIT = 1000
ORIGIN_CUSTOMER = 3
IDEMPOTENCY_PREFIX = "kf:"
_DESCRIPTION_LIMIT = 120
KNOWN_TYPES = frozenset(
    {"text", "image", "voice", "video", "file", "location", "link", "business_card",
     "miniprogram", "msgmenu", "channels_shop_product", "channels_shop_order", "merged_msg",
     "channels", "note", "event"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class KfMessage:
    """One item of ``msg_list``.

    ``content`` is the text of a ``text`` message; ``title`` is the most
    telling short field of other types (link/miniprogram title, location name),
    ``""`` when there is none.
    """

    msgid: str
    open_kfid: str
    external_userid: str
    send_time: int
    origin: int
    msgtype: str
    content: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class KfSyncPage:
    """One ``sync_msg`` answer; ``skipped`` counts items without the fields needed to use them."""

    next_cursor: str
    has_more: bool
    messages: tuple[KfMessage, ...]
    skipped: int = 0


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        return int(value)
    return None


def _storable(*identifiers: str, texts: tuple[str, ...] = ()) -> bool:
    """Identifiers within bounds and texts free of lone surrogates and NUL."""
    try:
        for identifier in identifiers:
            check_identifier(identifier, field="kf")
        for text in texts:
            check_text(text, field="kf")
    except BadRequestError:
        return False
    return True


def _payload(item: Mapping[str, object], msgtype: str) -> Mapping[str, object]:
    payload = item.get(msgtype)
    return payload if isinstance(payload, Mapping) else {}


def parse_item(item: Mapping[str, object]) -> KfMessage | None:
    """A message, or ``None`` when ``msgid``, ``msgtype`` or ``origin`` is missing.

    A customer message (origin 3) also needs ``external_userid``. An item whose
    ids are over :data:`~kindbot.core.edge.IDENTIFIER_LIMIT` characters or whose text
    could not be stored (lone surrogates, NUL) is malformed too (``None``).
    """
    msgid, msgtype, origin = (
        _text(item.get("msgid")),
        _text(item.get("msgtype")),
        item.get("origin"),
    )
    origin_value = _int(origin)
    external = _text(item.get("external_userid"))
    if not msgid or not msgtype or origin_value is None:
        return None
    if origin_value == ORIGIN_CUSTOMER and not external:
        return None
    payload = _payload(item, msgtype)
    title = _text(payload.get("title")) or _text(payload.get("name"))
    open_kfid = _text(item.get("open_kfid"))
    content = _text(payload.get("content")) if msgtype == "text" else ""
    if not _storable(msgid, msgtype, external, open_kfid, texts=(content, title)):
        return None
    return KfMessage(
        msgid=msgid,
        open_kfid=open_kfid,
        external_userid=external,
        send_time=_int(item.get("send_time")) or 0,
        origin=origin_value,
        msgtype=msgtype,
        content=content,
        title=title,
    )


def parse_sync_page(data: Mapping[str, object]) -> KfSyncPage:
    """The page in a successful ``sync_msg`` answer.

    Raises ``ValueError`` when ``next_cursor`` is not a string or ``msg_list``
    not a list; malformed items are skipped and counted, never fatal.
    """
    cursor, items = data.get("next_cursor", ""), data.get("msg_list", [])
    if not isinstance(cursor, str):
        raise ValueError("next_cursor is not a string")
    if not isinstance(items, list):
        raise ValueError("msg_list is not a list")
    messages: list[KfMessage] = []
    for item in items:
        parsed = parse_item(item) if isinstance(item, Mapping) else None
        if parsed is not None:
            messages.append(parsed)
    has_more = _int(data.get("has_more")) or 0
    return KfSyncPage(cursor, has_more != 0, tuple(messages), skipped=len(items) - len(messages))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DESCRIPTION_LIMIT else text[: _DESCRIPTION_LIMIT - 1] + "…"


def describe(message: KfMessage) -> tuple[InboundKind, str]:
    """The pipeline kind and text of a message (text as is, others described)."""
    if message.msgtype == "text":
        return InboundKind.TEXT, message.content
    if message.msgtype == "image":
        return InboundKind.IMAGE, "[image]"
    title = f" {message.title}" if message.title else ""
    kind = InboundKind.OTHER if message.msgtype in KNOWN_TYPES else InboundKind.UNKNOWN
    return kind, _clip(f"[{message.msgtype}{title}]")


def kf_to_inbound_event(
    message: KfMessage, *, channel_public_id: str, received_at: datetime
) -> InboundEvent | None:
    """The pipeline's view of a customer's message; ``None`` for any other origin.

    ``sender`` is the ``external_userid``; ``idempotency_key`` is ``kf:{msgid}``
    (msgids are unique per corp), so a message pulled twice is stored once.
    """
    if message.origin != ORIGIN_CUSTOMER or message.msgtype == "event":
        return None
    kind, text = describe(message)
    return InboundEvent(
        channel_public_id=channel_public_id,
        sender=message.external_userid,
        kind=kind,
        text=text,
        idempotency_key=f"{IDEMPOTENCY_PREFIX}{message.msgid}",
        received_at=received_at,
    )
