"""Which service window applies to a contact (the guard's ``window`` rule reads it)."""

from __future__ import annotations

from kindbot.channels.wecom.messages import MEMBER_PREFIX
from kindbot.guard.facts import WEBCHAT_WINDOW, WECHAT_WINDOW, WindowPolicy


def window_policy(channel_kind: str, contact_external_id: str) -> WindowPolicy | None:
    """The window of this channel for this contact, or None where none applies.

    Official Accounts and 微信客服 customers: WeChat's customer-service window.
    Web chat: the visitor's session. WeCom members (employees, ``member:`` ids),
    webhooks and the console: no window.
    """
    if channel_kind == "wechat_oa":
        return WECHAT_WINDOW
    if channel_kind == "wecom":
        return None if contact_external_id.startswith(MEMBER_PREFIX) else WECHAT_WINDOW
    if channel_kind == "webchat":
        return WEBCHAT_WINDOW
    return None
