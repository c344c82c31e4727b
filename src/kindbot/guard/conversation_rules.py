"""Rules about the conversation itself: the service window and reply bursts (DESIGN.md §5)."""

from __future__ import annotations

from datetime import datetime

from kindbot.core.events import Decision, OutboundAction, SendKind, Severity, Verdict
from kindbot.guard.facts import OutboundFacts

MAX_REPLIES_PER_INBOUND = 3
MAX_PER_MINUTE = 10


def _allow(rule: str, zh: str, en: str) -> Verdict:
    return Verdict(Decision.ALLOW, rule, zh, en)


def check_window(action: OutboundAction, facts: OutboundFacts, now: datetime) -> Verdict:
    """Free-form messages only inside the channel's service window, within its quota.

    An unfollowed contact receives nothing at all. Channels without a window
    (``facts.window`` None) pass.
    """
    if not facts.contact_followed:
        return Verdict(
            Decision.DENY,
            "window",
            "该用户已取消关注，不能再给他发消息。",
            "The contact unfollowed the account and receives nothing.",
            remedy_zh="用户重新关注并发消息后可回复。",
            remedy_en="Allowed after the contact follows again and writes.",
        )
    window = facts.window
    if window is None:
        return _allow("window", "此渠道没有服务窗口限制。", "This channel has no service window.")
    policy = window.policy
    length = policy.after_event if window.last_inbound_was_event else policy.after_message
    quota = policy.event_quota if window.last_inbound_was_event else policy.message_quota
    if window.last_inbound_at is None or now > window.last_inbound_at + length:
        return Verdict(
            Decision.DENY,
            "window",
            "已超出服务窗口：用户最近没有发消息。",
            "Outside the service window: the contact has not written recently.",
            remedy_zh="用户再次发消息后可回复。",
            remedy_en="Allowed after the contact writes again.",
            severity=Severity.LOW if action.kind is SendKind.PROACTIVE else Severity.NONE,
        )
    if quota is not None and window.sent_since_inbound >= quota:
        return Verdict(
            Decision.DENY,
            "window",
            f"本次服务窗口的 {quota} 条消息额度已用完。",
            f"The window's quota of {quota} messages is used up.",
            remedy_zh="用户再次发消息后额度恢复。",
            remedy_en="The quota renews when the contact writes again.",
        )
    left = "unlimited" if quota is None else str(quota - window.sent_since_inbound)
    return _allow("window", f"在服务窗口内（剩余 {left}）。", f"Inside the window ({left} left).")


def check_reply_burst(action: OutboundAction, facts: OutboundFacts, now: datetime) -> Verdict:
    """At most 3 bot messages per inbound message and 10 per minute per conversation."""
    if action.kind is SendKind.REPLY and facts.replies_to_inbound >= MAX_REPLIES_PER_INBOUND:
        return Verdict(
            Decision.DENY,
            "reply_burst",
            f"一条用户消息最多回复 {MAX_REPLIES_PER_INBOUND} 条。",
            f"At most {MAX_REPLIES_PER_INBOUND} bot messages answer one inbound message.",
        )
    if facts.sent_last_minute >= MAX_PER_MINUTE:
        return Verdict(
            Decision.DENY,
            "reply_burst",
            f"该会话一分钟内已发送 {MAX_PER_MINUTE} 条消息。",
            f"The conversation already had {MAX_PER_MINUTE} bot messages in the last minute.",
            severity=Severity.LOW,
        )
    return _allow("reply_burst", "发送频率正常。", "Within the reply rate.")
