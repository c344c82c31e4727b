"""Generic JSON webhook channel.

Inbound: ``POST /channels/{id}/callback`` with a JSON object
``{"user": str, "text": str, "id"?: str, "name"?: str}`` and the header
``X-Kindbot-Signature`` = lowercase hex HMAC-SHA256 of the raw body keyed with
the channel's ``secret``. ``id`` is the sender's message id: a retry with the
same ``user`` and ``id`` is answered from the first outcome instead of being
processed twice (ids are scoped by sender: another user's message with the
same id is a message of its own; without ``id`` every request is a new
message). ``user``, ``id`` and ``name`` are at most :data:`MAX_ID` characters
(400 ``identifier_too_long``); every string must be valid text (400
``invalid_text``). The replies are in the JSON
response. Replies produced later are POSTed to ``outgoing_url`` (if set),
signed the same way, and retried with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

import httpx
from pydantic import Field, model_validator

from kindbot.channels.config import ChannelConfig
from kindbot.core.edge import check_identifier, load_json_object, scoped_key
from kindbot.core.egress import RefusedAddressError
from kindbot.core.errors import BadRequestError, SignatureError
from kindbot.core.events import (
    DeliveryOutcome,
    DeliveryRequest,
    DeliveryStatus,
    FeedResult,
    InboundEvent,
    InboundKind,
)
from kindbot.core.windows import WindowPolicy

KIND = "webhook"
SIGNATURE_HEADER = "X-Kindbot-Signature"
MAX_TEXT = 4000
MAX_ID = 200


class WebhookConfig(ChannelConfig):
    """A webhook channel's settings (stored sealed); ``secret`` keys the HMAC signatures.

    ``window_hours``: replies only within this many hours of the contact's
    last message (None: no window); ``window_messages``: at most this many bot
    messages per window (None: no count; needs ``window_hours``).
    """

    secret: Annotated[str, Field(min_length=16, max_length=200)]
    outgoing_url: Annotated[str, Field(pattern=r"^https?://", max_length=2000)] | None = None
    window_hours: Annotated[float, Field(gt=0, le=24 * 30)] | None = None
    window_messages: Annotated[int, Field(ge=1, le=1000)] | None = None

    @model_validator(mode="after")
    def _count_needs_window(self) -> WebhookConfig:
        if self.window_messages is not None and self.window_hours is None:
            raise ValueError("window_messages needs window_hours")
        return self

    def window(self, contact_external_id: str) -> WindowPolicy | None:
        """The configured window, the same after a message or an event (None unless configured)."""
        if self.window_hours is None:
            return None
        length = timedelta(hours=self.window_hours)
        return WindowPolicy(length, self.window_messages, length, self.window_messages)

    def welcome_text(self) -> str | None:
        """None: a webhook has no follow event."""
        return None

    def configured_urls(self) -> dict[str, str]:
        """``outgoing_url``, when set."""
        return {"outgoing_url": self.outgoing_url} if self.outgoing_url else {}


def sign(secret: str, body: bytes) -> str:
    """The signature header value for ``body``."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> None:
    """Raise :class:`SignatureError` unless ``header`` signs ``body`` (constant time)."""
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header", code="missing_signature")
    if not hmac.compare_digest(sign(secret, body), header.strip().lower()):
        raise SignatureError("signature does not match the body")


def _field(data: dict[str, object], name: str, *, required: bool, limit: int) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequestError(f"field '{name}' is required", code="missing_field")
        return None
    if not isinstance(value, str):
        raise BadRequestError(f"field '{name}' must be a string", code="invalid_field")
    if required and not value.strip():
        raise BadRequestError(f"field '{name}' must not be empty", code="invalid_field")
    if name == "text":
        if len(value) > limit:
            raise BadRequestError(f"field 'text' exceeds {limit} characters", code="invalid_field")
        return value
    return check_identifier(value, field=name, limit=limit)


_UNNAMED = "auto:"
"""Key prefix of a message sent without an ``id``: it is new every time."""


def caller_retries(event: InboundEvent) -> bool:
    """Whether the sender can retry ``event`` (it named its message with an ``id``)."""
    return not event.idempotency_key.startswith(_UNNAMED)


def parse(body: bytes, *, channel_public_id: str, now: datetime) -> InboundEvent:
    """Parse a verified webhook body into an event, or raise :class:`BadRequestError`.

    The idempotency key is scoped by sender: ``id:{user}:{id}``.
    """
    data = load_json_object(body)
    user = _field(data, "user", required=True, limit=MAX_ID) or ""
    text = _field(data, "text", required=True, limit=MAX_TEXT) or ""
    message_id = _field(data, "id", required=False, limit=MAX_ID)
    name = _field(data, "name", required=False, limit=MAX_ID)
    return InboundEvent(
        channel_public_id=channel_public_id,
        sender=user,
        kind=InboundKind.TEXT,
        text=text,
        idempotency_key=(
            scoped_key("id", user, message_id) if message_id else f"{_UNNAMED}{uuid.uuid4().hex}"
        ),
        received_at=now,
        sender_name=name,
    )


def render_response(result: FeedResult) -> dict[str, Any]:
    """The JSON response for a processed webhook message."""
    return {
        "message_id": result.inbound_message_id,
        "duplicate": result.duplicate,
        "replies": [{"id": r.message_id, "text": r.text} for r in result.replies],
    }


class WebhookAdapter:
    """Delivers later replies to the channel's ``outgoing_url``."""

    kind = KIND

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def deliver(self, request: DeliveryRequest) -> DeliveryOutcome:
        config = WebhookConfig.model_validate_json(request.channel_config)
        if not config.outgoing_url:
            return DeliveryOutcome(
                DeliveryStatus.FAILED,
                "no outgoing_url configured; the reply was only offered in the callback response",
            )
        body = json.dumps(
            {"user": request.recipient, "text": request.text, "id": request.message_id},
            ensure_ascii=False,
        ).encode("utf-8")
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(config.secret, body)}
        try:
            response = await self._http.post(config.outgoing_url, content=body, headers=headers)
        except RefusedAddressError as exc:
            return DeliveryOutcome(DeliveryStatus.FAILED, f"outgoing_url refused: {exc}")
        except httpx.HTTPError as exc:
            return DeliveryOutcome(DeliveryStatus.RETRY, f"network error: {exc!r}")
        if response.is_success:
            return DeliveryOutcome(DeliveryStatus.DELIVERED)
        status = (
            DeliveryStatus.RETRY
            if response.status_code >= 500 or response.status_code == 429
            else DeliveryStatus.FAILED
        )
        return DeliveryOutcome(status, f"outgoing_url answered HTTP {response.status_code}")
