"""Rules for messages the contact did not ask for: consent, frequency, quiet hours, approval.

Each rule is a pure function of (action, facts, now). A reply (``SendKind.REPLY``)
passes all of them: it answers the contact. DESIGN.md §5 sets the defaults;
:class:`kindbot.guard.policy.GuardPolicy` carries the tenant's (stricter) values.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kindbot.core.events import Decision, OutboundAction, SendKind, Severity, Verdict
from kindbot.guard.facts import OutboundFacts
from kindbot.guard.policy import QuietHours


def _allow(rule: str, zh: str, en: str) -> Verdict:
    return Verdict(Decision.ALLOW, rule, zh, en)


def _not_proactive(rule: str) -> Verdict:
    return _allow(rule, "回复用户消息，不适用此规则。", "A reply to the contact: not applicable.")


def check_consent(action: OutboundAction, facts: OutboundFacts, now: datetime) -> Verdict:
    """A proactive message needs the contact's active opt-in to its topic on this channel."""
    proactive = facts.proactive
    if action.kind is not SendKind.PROACTIVE or proactive is None:
        return _not_proactive("consent")
    if not proactive.consent_active:
        return Verdict(
            Decision.DENY,
            "consent",
            f"该用户没有订阅主题「{proactive.topic}」，不能主动发送。",
            f"The contact has not opted in to {proactive.topic!r} on this channel.",
            remedy_zh="用户明确订阅该主题后可发送。",
            remedy_en="Allowed after the contact explicitly opts in to this topic.",
            severity=Severity.HIGH,
        )
    return _allow(
        "consent",
        f"用户已同意：「{proactive.consent_wording}」",
        f"The contact agreed to: {proactive.consent_wording!r}",
    )


def local_now(now: datetime, timezone: str) -> datetime:
    """``now`` as wall-clock time in ``timezone``."""
    return now.astimezone(ZoneInfo(timezone))


def next_midnight(now: datetime, timezone: str) -> datetime:
    """The next local midnight after ``now``, in UTC terms (aware datetime)."""
    local = local_now(now, timezone)
    tomorrow = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return tomorrow.astimezone(now.tzinfo)


def next_month_start(now: datetime, timezone: str) -> datetime:
    """The first moment of the next local calendar month."""
    local = local_now(now, timezone)
    first = (local.replace(day=28) + timedelta(days=4)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    return first.astimezone(now.tzinfo)


def check_frequency(action: OutboundAction, facts: OutboundFacts, now: datetime) -> Verdict:
    """Per contact 1/day and 4/month (deny); tenant daily quota and channel rate (defer)."""
    proactive = facts.proactive
    if action.kind is not SendKind.PROACTIVE or proactive is None:
        return _not_proactive("frequency")
    policy = facts.policy
    if proactive.sent_this_month >= policy.per_contact_month:
        when = next_month_start(now, policy.timezone)
        return _frequency_deny(
            f"该用户本月已收到 {policy.per_contact_month} 条主动消息。",
            f"The contact already had {policy.per_contact_month} proactive messages this month.",
            when,
            policy.timezone,
        )
    if proactive.sent_today >= policy.per_contact_day:
        when = next_midnight(now, policy.timezone)
        return _frequency_deny(
            f"该用户今天已收到 {policy.per_contact_day} 条主动消息。",
            f"The contact already had {policy.per_contact_day} proactive message(s) today.",
            when,
            policy.timezone,
        )
    if proactive.tenant_sent_today >= policy.daily_recipients:
        when = next_midnight(now, policy.timezone)
        return Verdict(
            Decision.DEFER,
            "frequency",
            f"商户今日主动消息额度（{policy.daily_recipients} 人）已用完，顺延到明天。",
            f"The tenant's daily quota of {policy.daily_recipients} recipients is used up; "
            "deferred to tomorrow.",
            remedy_zh=f"{_local(when, policy.timezone)} 之后发送。",
            remedy_en=f"Sent after {_local(when, policy.timezone)}.",
            retry_at=when,
        )
    if proactive.channel_sent_this_second >= policy.channel_per_second:
        when = now.replace(microsecond=0) + timedelta(seconds=1)
        return Verdict(
            Decision.DEFER,
            "frequency",
            "渠道发送速率已达上限，稍后发送。",
            f"The channel's send rate ({policy.channel_per_second}/s) is reached; deferred.",
            remedy_zh="一秒后重试。",
            remedy_en="Retried a second later.",
            retry_at=when,
        )
    return _allow(
        "frequency",
        f"今日 {proactive.sent_today}/{policy.per_contact_day}，本月 "
        f"{proactive.sent_this_month}/{policy.per_contact_month}。",
        f"Today {proactive.sent_today}/{policy.per_contact_day}, this month "
        f"{proactive.sent_this_month}/{policy.per_contact_month}.",
    )


def _frequency_deny(zh: str, en: str, when: datetime, timezone: str) -> Verdict:
    return Verdict(
        Decision.DENY,
        "frequency",
        zh,
        en,
        remedy_zh=f"{_local(when, timezone)} 之后可再发送。",
        remedy_en=f"Allowed after {_local(when, timezone)}.",
        severity=Severity.LOW,
    )


def _local(when: datetime, timezone: str) -> str:
    return f"{local_now(when, timezone):%Y-%m-%d %H:%M} ({timezone})"


def quiet_hours_end(now: datetime, quiet: QuietHours, timezone: str) -> datetime:
    """The first moment after ``now`` outside ``quiet`` (``now`` must be inside it)."""
    local = local_now(now, timezone)
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(now.tzinfo)


def check_quiet_hours(action: OutboundAction, facts: OutboundFacts, now: datetime) -> Verdict:
    """No proactive messages during quiet hours: deferred to their end, not dropped."""
    if action.kind is not SendKind.PROACTIVE:
        return _not_proactive("quiet_hours")
    policy = facts.policy
    if not policy.quiet_hours.contains(local_now(now, policy.timezone).time()):
        return _allow(
            "quiet_hours",
            f"不在免打扰时段（{policy.quiet_hours}）。",
            f"Outside quiet hours ({policy.quiet_hours}).",
        )
    when = quiet_hours_end(now, policy.quiet_hours, policy.timezone)
    return Verdict(
        Decision.DEFER,
        "quiet_hours",
        f"免打扰时段（{policy.quiet_hours}），顺延发送。",
        f"Quiet hours ({policy.quiet_hours}, {policy.timezone}): deferred.",
        remedy_zh=f"{_local(when, policy.timezone)} 之后发送。",
        remedy_en=f"Sent after {_local(when, policy.timezone)}.",
        retry_at=when,
    )


def check_human_confirm(action: OutboundAction, facts: OutboundFacts, now: datetime) -> Verdict:
    """A broadcast to more than ``human_confirm_over`` recipients needs a second person."""
    broadcast = facts.broadcast
    limit = facts.policy.human_confirm_over
    if broadcast is None or broadcast.recipients <= limit:
        return _allow("human_confirm", "无需二次确认。", "No second approval needed.")
    if broadcast.second_approval:
        return _allow("human_confirm", "已由第二人批准。", "Approved by a second person.")
    return Verdict(
        Decision.DENY,
        "human_confirm",
        f"发送对象超过 {limit} 人，需要另一位管理员批准。",
        f"More than {limit} recipients: a second person must approve.",
        remedy_zh="另一位管理员批准后发送。",
        remedy_en="Allowed after a second person approves the broadcast.",
    )
