"""Properties of the whole outbound decision, over generated facts (hypothesis).

Table tests pin single rules; these state what must hold for *any*
combination of facts: the promises kindbot makes to the people it messages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kindbot.core.events import Decision, OutboundAction, OutboundReply, ReplyOrigin, SendKind
from kindbot.core.records.tenancy import TenantStatus
from kindbot.core.screening import (
    SCREENED_OK,
    ContentCategory,
    ScreeningLevel,
    ScreeningMatch,
    ScreeningVerdict,
)
from kindbot.core.windows import WEBCHAT_WINDOW, WECHAT_WINDOW
from kindbot.guard.facts import (
    BroadcastFacts,
    OutboundFacts,
    ProactiveFacts,
    WindowFacts,
)
from kindbot.guard.planning import PlannedSend, RecipientFacts, plan
from kindbot.guard.policy import PLATFORM_POLICY, GuardPolicy
from kindbot.guard.proactive_rules import local_now
from kindbot.guard.rules import decide_outbound

START = datetime(2026, 1, 1, tzinfo=UTC)
moments = st.integers(min_value=0, max_value=365 * 24 * 60).map(
    lambda minutes: START + timedelta(minutes=minutes)
)
BLOCKED = ScreeningVerdict(
    ScreeningLevel.BLOCK,
    (ScreeningMatch(ContentCategory.DIVERSION, "personal_account", "加微信", 0, 3, "加微信"),),
)


@st.composite
def windows(draw: st.DrawFn, now: datetime) -> WindowFacts | None:
    policy = draw(st.sampled_from([None, WECHAT_WINDOW, WEBCHAT_WINDOW]))
    if policy is None:
        return None
    ago = draw(st.none() | st.integers(min_value=0, max_value=96 * 60))
    return WindowFacts(
        policy=policy,
        last_inbound_at=None if ago is None else now - timedelta(minutes=ago),
        last_inbound_was_event=draw(st.booleans()),
        sent_since_inbound=draw(st.integers(min_value=0, max_value=7)),
    )


@st.composite
def situations(draw: st.DrawFn) -> tuple[OutboundAction, OutboundFacts, datetime]:
    now = draw(moments)
    kind = draw(st.sampled_from(SendKind))
    proactive = None
    if kind is SendKind.PROACTIVE:
        proactive = ProactiveFacts(
            topic="news",
            consent_wording=draw(st.none() | st.just("每周上新通知我")),
            sent_today=draw(st.integers(min_value=0, max_value=3)),
            sent_this_month=draw(st.integers(min_value=0, max_value=6)),
            tenant_sent_today=draw(st.integers(min_value=0, max_value=300)),
            channel_sent_this_second=draw(st.integers(min_value=0, max_value=25)),
        )
    facts = OutboundFacts(
        tenant_status=draw(st.sampled_from(TenantStatus)),
        contact_is_test=draw(st.booleans()),
        bot_messages_in_conversation=draw(st.integers(min_value=0, max_value=5)),
        prefer_chinese=draw(st.booleans()),
        contact_followed=draw(st.booleans()),
        window=draw(windows(now)),
        replies_to_inbound=draw(st.integers(min_value=0, max_value=4)),
        sent_last_minute=draw(st.integers(min_value=0, max_value=12)),
        policy=PLATFORM_POLICY,
        proactive=proactive,
        broadcast=draw(
            st.none()
            | st.builds(BroadcastFacts, st.integers(min_value=1, max_value=5000), st.booleans())
        ),
        content=draw(st.sampled_from([SCREENED_OK, BLOCKED])),
    )
    action = OutboundAction(
        "t", "c", "webchat", "u", "v", kind, OutboundReply("上新了", ReplyOrigin.SYSTEM)
    )
    return action, facts, now


@given(situations())
@settings(max_examples=400, deadline=None)
def test_allowed_only_when_every_promise_holds(
    situation: tuple[OutboundAction, OutboundFacts, datetime],
) -> None:
    action, facts, now = situation
    decision = decide_outbound(action, facts, now)
    if not decision.verdict.allowed:
        return
    assert facts.tenant_status is not TenantStatus.SUSPENDED
    assert facts.tenant_status is TenantStatus.ACTIVE or facts.contact_is_test
    assert facts.contact_followed
    assert facts.content.level is not ScreeningLevel.BLOCK
    if facts.window is not None:
        assert facts.window.last_inbound_at is not None
    if action.kind is SendKind.PROACTIVE:
        proactive = facts.proactive
        assert proactive is not None
        assert proactive.consent_active
        assert proactive.sent_today < PLATFORM_POLICY.per_contact_day
        assert proactive.sent_this_month < PLATFORM_POLICY.per_contact_month
        assert not PLATFORM_POLICY.quiet_hours.contains(local_now(now, "Asia/Shanghai").time())
    if facts.broadcast is not None and facts.broadcast.recipients > 1000:
        assert facts.broadcast.second_approval


@given(situations())
@settings(max_examples=300, deadline=None)
def test_a_deferral_names_a_later_time(
    situation: tuple[OutboundAction, OutboundFacts, datetime],
) -> None:
    action, facts, now = situation
    verdict = decide_outbound(action, facts, now).verdict
    if verdict.decision is Decision.DEFER:
        assert verdict.retry_at is not None
        assert verdict.retry_at > now


@given(situations())
@settings(max_examples=300, deadline=None)
def test_every_rule_is_explained_in_both_languages(
    situation: tuple[OutboundAction, OutboundFacts, datetime],
) -> None:
    action, facts, now = situation
    decision = decide_outbound(action, facts, now)
    assert len(decision.checks) >= 9
    for check in (*decision.checks, decision.verdict):
        assert check.reason_en
        assert check.reason_zh


recipient_facts = st.builds(
    RecipientFacts,
    contact_id=st.uuids().map(lambda u: u.hex),
    channel_id=st.just("ch"),
    channel_kind=st.sampled_from(["webchat", "webhook", "wechat_oa"]),
    is_test=st.booleans(),
    followed=st.booleans(),
    window=st.none()
    | st.builds(
        WindowFacts,
        st.sampled_from([WECHAT_WINDOW, WEBCHAT_WINDOW]),
        st.none() | moments,
        st.just(False),
        st.just(0),
    ),
    consent_wording=st.none() | st.just("上新通知我"),
    sent_today=st.integers(min_value=0, max_value=2),
    sent_this_month=st.integers(min_value=0, max_value=5),
)


@given(
    st.lists(recipient_facts, max_size=60),
    moments,
    st.integers(min_value=0, max_value=20),
    st.sampled_from(TenantStatus),
)
@settings(max_examples=200, deadline=None)
def test_a_plan_agrees_with_deciding_each_recipient_alone(
    recipients: list[RecipientFacts], now: datetime, quota: int, status: TenantStatus
) -> None:
    policy = GuardPolicy(daily_recipients=quota)
    send = PlannedSend("t", status, policy, "news", "上新了", prefer_chinese=True)

    planned = plan(send, recipients, now)

    admitted = 0
    expected: dict[tuple[Decision, str], int] = {}
    for recipient in recipients:
        facts = OutboundFacts(
            tenant_status=status,
            contact_is_test=recipient.is_test,
            bot_messages_in_conversation=1,
            prefer_chinese=True,
            contact_followed=recipient.followed,
            window=recipient.window,
            policy=policy,
            proactive=ProactiveFacts(
                "news",
                recipient.consent_wording,
                recipient.sent_today,
                recipient.sent_this_month,
                admitted,
            ),
        )
        action = OutboundAction(
            "t",
            recipient.channel_id,
            recipient.channel_kind,
            recipient.contact_id,
            "",
            SendKind.PROACTIVE,
            OutboundReply("上新了", ReplyOrigin.SYSTEM),
        )
        verdict = decide_outbound(action, facts, now).verdict
        admitted += verdict.allowed
        key = (verdict.decision, verdict.rule)
        expected[key] = expected.get(key, 0) + 1
    got: dict[tuple[Decision, str], int] = {}
    for line in planned.lines:
        got[(line.decision, line.rule)] = got.get((line.decision, line.rule), 0) + line.count
    assert got == expected
    assert planned.total == len(recipients)
    assert planned.allowed == admitted
