"""Table tests of the window and reply-burst rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kindbot.core.events import Decision, OutboundAction, OutboundReply, ReplyOrigin, SendKind
from kindbot.core.records.tenancy import TenantStatus
from kindbot.core.windows import WEBCHAT_WINDOW, WECHAT_WINDOW
from kindbot.guard.conversation_rules import check_reply_burst, check_window
from kindbot.guard.facts import OutboundFacts, WindowFacts

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def action(kind: SendKind = SendKind.REPLY) -> OutboundAction:
    return OutboundAction(
        "t", "c", "wechat_oa", "u", "v", kind, OutboundReply("hi", ReplyOrigin.KNOWLEDGE)
    )


def facts(
    *,
    ago: timedelta | None = timedelta(minutes=1),
    event: bool = False,
    sent: int = 0,
    policy=WECHAT_WINDOW,  # type: ignore[no-untyped-def]
) -> OutboundFacts:
    window = WindowFacts(policy, None if ago is None else NOW - ago, event, sent)
    return OutboundFacts(TenantStatus.ACTIVE, False, 0, True, window=window)


@pytest.mark.parametrize(
    ("ago", "event", "sent", "decision"),
    [
        (timedelta(minutes=1), False, 0, Decision.ALLOW),
        (timedelta(hours=47, minutes=59), False, 4, Decision.ALLOW),
        (timedelta(hours=47, minutes=59), False, 5, Decision.DENY),  # 45047
        (timedelta(hours=48, seconds=1), False, 0, Decision.DENY),  # 45015
        (timedelta(seconds=59), True, 2, Decision.ALLOW),
        (timedelta(seconds=59), True, 3, Decision.DENY),
        (timedelta(seconds=61), True, 0, Decision.DENY),
        (None, False, 0, Decision.DENY),  # never wrote
    ],
)
def test_wechat_service_window(
    ago: timedelta | None, event: bool, sent: int, decision: Decision
) -> None:
    verdict = check_window(action(), facts(ago=ago, event=event, sent=sent), NOW)
    assert verdict.decision is decision
    assert verdict.rule == "window"
    if decision is Decision.DENY:
        assert verdict.remedy_en


def test_web_chat_session_has_no_quota() -> None:
    assert check_window(action(), facts(sent=50, policy=WEBCHAT_WINDOW), NOW).allowed
    stale = facts(ago=timedelta(hours=25), policy=WEBCHAT_WINDOW)
    assert not check_window(action(), stale, NOW).allowed


def test_channels_without_a_window_pass_but_unfollowed_contacts_never() -> None:
    plain = OutboundFacts(TenantStatus.ACTIVE, False, 0, True)
    assert check_window(action(), plain, NOW).allowed
    assert not check_window(action(), replace(plain, contact_followed=False), NOW).allowed


@pytest.mark.parametrize(
    ("replies", "last_minute", "kind", "decision"),
    [
        (0, 0, SendKind.REPLY, Decision.ALLOW),
        (2, 9, SendKind.REPLY, Decision.ALLOW),
        (3, 0, SendKind.REPLY, Decision.DENY),
        (0, 10, SendKind.REPLY, Decision.DENY),
        (5, 0, SendKind.PROACTIVE, Decision.ALLOW),
        (0, 10, SendKind.PROACTIVE, Decision.DENY),
    ],
)
def test_reply_burst(replies: int, last_minute: int, kind: SendKind, decision: Decision) -> None:
    base = OutboundFacts(TenantStatus.ACTIVE, False, 0, True)
    counted = replace(base, replies_to_inbound=replies, sent_last_minute=last_minute)
    assert check_reply_burst(action(kind), counted, NOW).decision is decision
