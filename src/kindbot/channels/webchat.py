"""Web chat channel: the widget served at ``/chat/{channel_id}``.

A visitor is identified by a random id kept in an HttpOnly cookie; messages
arrive over a WebSocket (or a POST fallback) and replies are pushed back on
the same socket. The conversation history is the mailbox: a reply delivered
while the visitor is away is shown when the page is next opened.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol

from pydantic import Field

from kindbot.channels.config import ChannelConfig
from kindbot.core.choices import numbered_choices
from kindbot.core.edge import check_identifier, check_text, scoped_key
from kindbot.core.errors import BadRequestError
from kindbot.core.events import (
    DeliveryOutcome,
    DeliveryRequest,
    DeliveryStatus,
    InboundEvent,
    InboundKind,
)
from kindbot.core.records.conversations import MessageRecord
from kindbot.core.windows import WEBCHAT_WINDOW, WindowPolicy

KIND = "webchat"
VISITOR_COOKIE = "kindbot_visitor"
MAX_TEXT = 2000
_CLIENT_ID_LIMIT = 100


class WebchatConfig(ChannelConfig):
    """A web chat channel's settings; ``title`` defaults to the tenant's name when stored."""

    title: Annotated[str, Field(max_length=200)] | None = None
    greeting: Annotated[str, Field(max_length=1000)] | None = None

    def window(self, contact_external_id: str) -> WindowPolicy | None:
        """The visitor's session."""
        return WEBCHAT_WINDOW

    def welcome_text(self) -> str | None:
        """None: the widget shows ``greeting`` itself."""
        return None

    def for_tenant(self, tenant_name: str) -> WebchatConfig:
        """With ``title`` filled in from the tenant's name when the bundle gave none."""
        return self if self.title else self.model_copy(update={"title": tenant_name})


def new_visitor_id() -> str:
    """A fresh unguessable visitor id for the cookie."""
    return secrets.token_urlsafe(24)


def valid_visitor_id(value: str | None) -> bool:
    """True for ids that :func:`new_visitor_id` could have produced."""
    return (
        bool(value)
        and value is not None
        and 16 <= len(value) <= 64
        and value.replace("-", "").replace("_", "").isalnum()
    )


@dataclass(frozen=True, slots=True)
class ChatSubmission:
    """A visitor's message as submitted by the widget."""

    text: str
    client_id: str


def parse_submission(data: Any) -> ChatSubmission:
    """Validate a widget message ``{"text": str, "client_id": str}``.

    ``data`` should come from :func:`kindbot.core.edge.load_json`; the
    fields are checked here again (``invalid_text``) so any caller is safe.
    ``client_id`` longer than 100 characters: 400 ``identifier_too_long``.
    """
    if not isinstance(data, dict):
        raise BadRequestError("message must be a JSON object", code="invalid_json")
    text = data.get("text")
    client_id = data.get("client_id") or uuid.uuid4().hex
    if not isinstance(text, str) or not text.strip():
        raise BadRequestError("field 'text' must be a non-empty string", code="invalid_field")
    if len(text) > MAX_TEXT:
        raise BadRequestError(f"field 'text' exceeds {MAX_TEXT} characters", code="invalid_field")
    if not isinstance(client_id, str):
        raise BadRequestError("field 'client_id' must be a string", code="invalid_field")
    check_identifier(client_id, field="client_id", limit=_CLIENT_ID_LIMIT)
    return ChatSubmission(text=check_text(text.strip(), field="text"), client_id=client_id)


def to_event(
    submission: ChatSubmission, *, channel_public_id: str, visitor_id: str, now: datetime
) -> InboundEvent:
    """The inbound event for a submission; ``client_id`` makes resubmits idempotent."""
    return InboundEvent(
        channel_public_id=channel_public_id,
        sender=visitor_id,
        kind=InboundKind.TEXT,
        text=submission.text,
        idempotency_key=scoped_key("webchat", visitor_id, submission.client_id),
        received_at=now,
    )


Frame = dict[str, str | list[str]]


def message_frame(message_id: str, direction: str, text: str, at: datetime) -> Frame:
    """The JSON shape of one message, as the widget renders it.

    ``choices`` lists the options of a bot's numbered-choice message (shown as
    buttons that send the option's number); empty for every other message.
    """
    choices = list(numbered_choices(text)) if direction == "outbound" else []
    return {
        "id": message_id,
        "direction": direction,
        "text": text,
        "at": at.isoformat(),
        "choices": choices,
    }


def record_frame(record: MessageRecord) -> Frame:
    """:func:`message_frame` for a stored message."""
    return message_frame(record.id, record.direction.value, record.text, record.created_at)


class VisitorPush(Protocol):
    """Pushes a frame to a visitor's open sockets; returns how many received it."""

    async def push(self, channel_public_id: str, visitor_id: str, frame: dict[str, Any]) -> int: ...


class WebchatAdapter:
    """Delivers later replies: pushed live when the visitor is connected, else kept in history."""

    kind = KIND

    def __init__(self, push: VisitorPush) -> None:
        self._push = push

    async def deliver(self, request: DeliveryRequest) -> DeliveryOutcome:
        frame = {
            "type": "message",
            "client_id": None,
            "message": message_frame(
                request.message_id, "outbound", request.text, request.created_at
            ),
        }
        sockets = await self._push.push(request.channel_public_id, request.recipient, frame)
        detail = f"pushed to {sockets} open socket(s)" if sockets else "stored in history"
        return DeliveryOutcome(DeliveryStatus.DELIVERED, detail)
