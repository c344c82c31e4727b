"""Table tests of consent, frequency, quiet hours, content, group and approval rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

import pytest

from kindbot.core.errors import BadRequestError
from kindbot.core.events import (
    Decision,
    OutboundAction,
    OutboundReply,
    ReplyOrigin,
    SendKind,
    Severity,
)
from kindbot.core.records.tenancy import TenantStatus
from kindbot.core.screening import ContentCategory, ScreeningLevel, ScreeningMatch, ScreeningVerdict
from kindbot.guard.facts import BroadcastFacts, GroupFacts, OutboundFacts, ProactiveFacts
from kindbot.guard.policy import (
    PLATFORM_POLICY,
    QuietHours,
    TenantGuardSettings,
    parse_quiet_hours,
    tenant_policy,
)
from kindbot.guard.rules import decide_outbound

# 02:00 UTC = 10:00 in Shanghai (outside quiet hours); 14:00 UTC = 22:00 (inside).
DAY = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def action(kind: SendKind = SendKind.PROACTIVE, text: str = "新品上市") -> OutboundAction:
    return OutboundAction(
        "t", "c", "webhook", "u", "v", kind, OutboundReply(text, ReplyOrigin.SYSTEM)
    )


def facts(**proactive: object) -> OutboundFacts:
    values: dict[str, object] = {"topic": "news", "consent_wording": "每周新品通知"}
    values.update(proactive)
    return OutboundFacts(
        tenant_status=TenantStatus.ACTIVE,
        contact_is_test=False,
        bot_messages_in_conversation=1,
        prefer_chinese=True,
        proactive=ProactiveFacts(**values),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("changes", "now", "decision", "rule"),
    [
        ({}, DAY, Decision.ALLOW, "guard"),
        ({"consent_wording": None}, DAY, Decision.DENY, "consent"),
        ({"sent_today": 1}, DAY, Decision.DENY, "frequency"),
        ({"sent_this_month": 4}, DAY, Decision.DENY, "frequency"),
        ({"tenant_sent_today": 250}, DAY, Decision.DEFER, "frequency"),
        ({"channel_sent_this_second": 20}, DAY, Decision.DEFER, "frequency"),
        ({}, NIGHT, Decision.DEFER, "quiet_hours"),
        # A denial beats a deferral: no consent at night is a denial.
        ({"consent_wording": None}, NIGHT, Decision.DENY, "consent"),
    ],
)
def test_proactive_rules(
    changes: dict[str, object], now: datetime, decision: Decision, rule: str
) -> None:
    outcome = decide_outbound(action(), facts(**changes), now)
    assert outcome.verdict.decision is decision
    assert outcome.verdict.rule == rule
    assert outcome.verdict.reason_zh
    assert outcome.verdict.reason_en


def test_quiet_hours_defer_to_nine_local() -> None:
    outcome = decide_outbound(action(), facts(), NIGHT)
    assert outcome.verdict.retry_at == datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    assert "2026-11-26 09:00" in outcome.verdict.remedy_en


def test_the_latest_deferral_decides() -> None:
    outcome = decide_outbound(action(), facts(tenant_sent_today=250), NIGHT)
    # Tenant quota: next local midnight (16:00 UTC) is before 09:00 local: quiet hours decide.
    assert outcome.verdict.rule == "quiet_hours"


def test_replies_are_not_proactive() -> None:
    outcome = decide_outbound(action(SendKind.REPLY), facts(consent_wording=None), NIGHT)
    assert outcome.verdict.allowed


def test_missing_consent_is_a_high_severity_violation() -> None:
    outcome = decide_outbound(action(), facts(consent_wording=None), DAY)
    assert outcome.verdict.severity is Severity.HIGH
    assert "opted in" in outcome.verdict.reason_en


def blocked(category: ContentCategory, excerpt: str) -> ScreeningVerdict:
    match = ScreeningMatch(category, "lexicon", excerpt, 0, len(excerpt), excerpt)
    return ScreeningVerdict(ScreeningLevel.BLOCK, (match,))


def test_blocked_content_is_denied_with_its_terms() -> None:
    base = replace(facts(), content=blocked(ContentCategory.GAMBLING, "博彩"))
    outcome = decide_outbound(action(SendKind.REPLY), base, DAY)
    assert outcome.verdict.rule == "content"
    assert "博彩" in outcome.verdict.reason_zh
    assert "赌博" in outcome.verdict.reason_zh
    flagged = replace(base, content=ScreeningVerdict(ScreeningLevel.FLAG, base.content.matches))
    assert decide_outbound(action(SendKind.REPLY), flagged, DAY).verdict.allowed


@pytest.mark.parametrize(
    ("kind", "group", "decision"),
    [
        (SendKind.REPLY, GroupFacts(mentioned=True), Decision.ALLOW),
        (SendKind.REPLY, GroupFacts(mentioned=False), Decision.DENY),
        (SendKind.REPLY, GroupFacts(mentioned=True, sent_last_hour=20), Decision.DENY),
        (SendKind.PROACTIVE, GroupFacts(mentioned=True), Decision.DENY),
    ],
)
def test_group_etiquette(kind: SendKind, group: GroupFacts, decision: Decision) -> None:
    outcome = decide_outbound(action(kind), replace(facts(), group=group), DAY)
    assert outcome.verdict.decision is decision
    if decision is Decision.DENY:
        assert outcome.verdict.rule == "group"


@pytest.mark.parametrize(
    ("recipients", "approved", "allowed"),
    [(1_000, False, True), (1_001, False, False), (1_001, True, True)],
)
def test_big_broadcasts_need_a_second_person(
    recipients: int, approved: bool, allowed: bool
) -> None:
    current = replace(facts(), broadcast=BroadcastFacts(recipients, approved))
    outcome = decide_outbound(action(), current, DAY)
    assert outcome.verdict.allowed is allowed
    if not allowed:
        assert outcome.verdict.rule == "human_confirm"


def test_quiet_hours_span_midnight() -> None:
    quiet = parse_quiet_hours("21:00-09:00")
    assert quiet.contains(time(23, 30))
    assert quiet.contains(time(8, 59))
    assert not quiet.contains(time(9, 0))
    assert not quiet.contains(time(20, 59))


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        (TenantGuardSettings(quiet_hours="22:00-08:00"), "include the platform"),
        (TenantGuardSettings(per_contact_day=2), "platform's 1"),
        (TenantGuardSettings(per_contact_month=5), "platform's 4"),
        (TenantGuardSettings(quiet_hours="25:00-08:00"), "not a time"),
    ],
)
def test_a_tenant_cannot_loosen_platform_limits(
    settings: TenantGuardSettings, problem: str
) -> None:
    with pytest.raises(BadRequestError, match=problem):
        tenant_policy(settings, timezone="Asia/Shanghai")


def test_a_tenant_may_tighten_and_throttling_cuts_the_quota() -> None:
    policy = tenant_policy(
        TenantGuardSettings(quiet_hours="20:00-10:00", per_contact_month=2, trust_tier=1),
        timezone="Europe/Berlin",
        throttled=True,
    )
    assert policy.quiet_hours == QuietHours(time(20), time(10))
    assert policy.per_contact_month == 2
    assert policy.daily_recipients == 500
    assert policy.timezone == "Europe/Berlin"
    assert PLATFORM_POLICY.per_contact_day == 1
