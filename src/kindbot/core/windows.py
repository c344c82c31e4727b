"""Service windows: how long after a contact's last message a channel lets the bot write.

The policy belongs to the channel (each kind says which one applies, see
:mod:`kindbot.channels.registry`); the guard's ``window`` rule enforces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class WindowPolicy:
    """A channel's service window (DESIGN.md §5 ``window``).

    After a user *message*: ``message_quota`` messages within ``after_message``.
    After a menu click, follow or scan (*event*): ``event_quota`` within
    ``after_event``. ``None`` quota means unlimited inside the window.
    """

    after_message: timedelta
    message_quota: int | None
    after_event: timedelta
    event_quota: int | None


WECHAT_WINDOW = WindowPolicy(timedelta(hours=48), 5, timedelta(minutes=1), 3)
"""Official Account customer-service messages and 微信客服 (45015/45047)."""

WEBCHAT_WINDOW = WindowPolicy(timedelta(hours=24), None, timedelta(hours=24), None)
"""Web chat: the visitor's session, taken as 24 hours after their last message."""
