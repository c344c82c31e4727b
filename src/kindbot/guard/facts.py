"""What the outbound rules know at decision time (gathered by the pipeline from storage).

Facts are plain frozen values: the rules never query anything themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kindbot.core.records.tenancy import TenantStatus
from kindbot.core.screening import SCREENED_OK, ScreeningVerdict
from kindbot.core.windows import WindowPolicy
from kindbot.guard.policy import PLATFORM_POLICY, GuardPolicy


@dataclass(frozen=True, slots=True)
class WindowFacts:
    """Where the contact stands in the channel's window.

    ``last_inbound_at`` is the contact's last inbound message or event in the
    conversation (None: never wrote); ``sent_since_inbound`` counts bot
    messages after it (including earlier replies in the same batch).
    """

    policy: WindowPolicy
    last_inbound_at: datetime | None
    last_inbound_was_event: bool
    sent_since_inbound: int


@dataclass(frozen=True, slots=True)
class ProactiveFacts:
    """What the consent, frequency and quiet-hours rules know about a proactive send.

    Counts are of proactive messages already sent (or reserved): to this
    contact today and this calendar month (in the policy's time zone), by the
    tenant to all contacts today, and on this channel in the current second.
    ``consent_wording`` is what the contact agreed to (None: no active consent
    to ``topic`` on this channel).
    """

    topic: str
    consent_wording: str | None
    sent_today: int = 0
    sent_this_month: int = 0
    tenant_sent_today: int = 0
    channel_sent_this_second: int = 0

    @property
    def consent_active(self) -> bool:
        """True when the contact has an active opt-in to the topic on this channel."""
        return self.consent_wording is not None


@dataclass(frozen=True, slots=True)
class GroupFacts:
    """A group chat: was the bot mentioned or asked, and how much did it say this hour."""

    mentioned: bool
    sent_last_hour: int = 0


@dataclass(frozen=True, slots=True)
class BroadcastFacts:
    """A send to many recipients at once and whether a second person approved it."""

    recipients: int
    second_approval: bool = False


@dataclass(frozen=True, slots=True)
class OutboundFacts:
    """Everything the outbound rules need.

    ``bot_messages_in_conversation`` counts outbound messages already stored in
    the conversation, including earlier replies in the same batch;
    ``replies_to_inbound`` counts the replies already made to the inbound
    message this reply answers; ``sent_last_minute`` the bot messages of the
    last 60 s in the conversation. ``window`` is None on channels without a
    service window (webhook, console, WeCom members). ``proactive`` is set for
    proactive sends, ``group`` in group chats, ``broadcast`` for sends to many;
    ``content`` is the moderation verdict on the reply's text.
    """

    tenant_status: TenantStatus
    contact_is_test: bool
    bot_messages_in_conversation: int
    prefer_chinese: bool
    contact_followed: bool = True
    window: WindowFacts | None = None
    replies_to_inbound: int = 0
    sent_last_minute: int = 0
    policy: GuardPolicy = PLATFORM_POLICY
    proactive: ProactiveFacts | None = None
    group: GroupFacts | None = None
    broadcast: BroadcastFacts | None = None
    content: ScreeningVerdict = SCREENED_OK
