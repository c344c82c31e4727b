"""Console channel: ``kindbot chat`` in a terminal, through the full pipeline.

Replies are printed by the command as soon as the pipeline returns them; a
reply produced later is kept in the conversation history.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from kindbot.channels.config import ChannelConfig
from kindbot.core.events import (
    DeliveryOutcome,
    DeliveryRequest,
    DeliveryStatus,
    InboundEvent,
    InboundKind,
)
from kindbot.core.windows import WindowPolicy

KIND = "console"
LOCAL_ID = "console"


class ConsoleConfig(ChannelConfig):
    """The console has no settings (stored as ``{}``)."""

    def window(self, contact_external_id: str) -> WindowPolicy | None:
        """None: the person at the terminal is the operator."""
        return None

    def welcome_text(self) -> str | None:
        """None: nobody follows a terminal."""
        return None


def to_event(text: str, *, channel_public_id: str, user: str, now: datetime) -> InboundEvent:
    """The inbound event for one line typed in the terminal."""
    return InboundEvent(
        channel_public_id=channel_public_id,
        sender=user,
        kind=InboundKind.TEXT,
        text=text,
        idempotency_key=f"console:{uuid.uuid4().hex}",
        received_at=now,
    )


class ConsoleAdapter:
    """Nothing to push to: the terminal session shows replies itself."""

    kind = KIND

    async def deliver(self, request: DeliveryRequest) -> DeliveryOutcome:
        return DeliveryOutcome(DeliveryStatus.DELIVERED, "kept in history for the terminal")
