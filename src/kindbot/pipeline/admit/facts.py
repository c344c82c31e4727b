"""Which service window applies to a contact (the guard's ``window`` rule reads it)."""

from __future__ import annotations

from datetime import timedelta

from kindbot.channels.webhook import KIND as WEBHOOK_KIND
from kindbot.channels.webhook import WebhookConfig
from kindbot.channels.wecom.messages import MEMBER_PREFIX
from kindbot.guard.facts import WEBCHAT_WINDOW, WECHAT_WINDOW, WindowPolicy


def window_policy(
    channel_kind: str, contact_external_id: str, channel_config: str
) -> WindowPolicy | None:
    """The window of this channel for this contact, or None where none applies.

    Official Accounts and 微信客服 customers: WeChat's customer-service window.
    Web chat: the visitor's session. Webhooks: the channel's configured
    ``window_hours`` / ``window_messages`` (none unless configured). WeCom
    members (employees, ``member:`` ids) and the console: no window.
    ``channel_config`` is the channel's opened configuration JSON.
    """
    if channel_kind == "wechat_oa":
        return WECHAT_WINDOW
    if channel_kind == "wecom":
        return None if contact_external_id.startswith(MEMBER_PREFIX) else WECHAT_WINDOW
    if channel_kind == "webchat":
        return WEBCHAT_WINDOW
    if channel_kind == WEBHOOK_KIND:
        return webhook_window(WebhookConfig.from_json(channel_config))
    return None


def webhook_window(config: WebhookConfig) -> WindowPolicy | None:
    """A webhook channel's configured window (the same after a message or an event)."""
    if config.window_hours is None:
        return None
    length = timedelta(hours=config.window_hours)
    return WindowPolicy(length, config.window_messages, length, config.window_messages)
