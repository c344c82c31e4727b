"""Which counters a proactive send uses, and how their counts become facts.

Pure: key names embed their period (the contact's local day and month, the
channel's second), so a counter never needs resetting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from kindbot.core.records.counters import CounterLimit
from kindbot.guard.facts import ProactiveFacts
from kindbot.guard.policy import GuardPolicy
from kindbot.guard.proactive_rules import local_now, next_midnight, next_month_start

CHANNEL_KEY_LIFETIME = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class ProactiveKeys:
    """The four counters one proactive send to one contact moves."""

    contact_day: str
    contact_month: str
    tenant_day: str
    channel_second: str

    def all(self) -> tuple[str, str, str, str]:
        """Every key, in the order :func:`proactive_facts` reads their counts."""
        return (self.contact_day, self.contact_month, self.tenant_day, self.channel_second)

    def limits(self, policy: GuardPolicy, now: datetime) -> tuple[CounterLimit, ...]:
        """The reservation that admits one more send under ``policy``."""
        day_end = next_midnight(now, policy.timezone) + timedelta(days=1)
        month_end = next_month_start(now, policy.timezone) + timedelta(days=1)
        second_end = now + CHANNEL_KEY_LIFETIME
        return (
            CounterLimit(self.contact_day, policy.per_contact_day, day_end),
            CounterLimit(self.contact_month, policy.per_contact_month, month_end),
            CounterLimit(self.tenant_day, policy.daily_recipients, day_end),
            CounterLimit(self.channel_second, policy.channel_per_second, second_end),
        )


@dataclass(frozen=True, slots=True)
class Periods:
    """The local day and month a counter key belongs to (``20261125``, ``202611``)."""

    day: str
    month: str


def periods(now: datetime, timezone: str) -> Periods:
    """The periods of ``now`` in ``timezone`` (computed once for a bulk read)."""
    local = local_now(now, timezone)
    return Periods(day=f"{local:%Y%m%d}", month=f"{local:%Y%m}")


def contact_keys(tenant_id: str, contact_id: str, at: Periods) -> tuple[str, str]:
    """The contact's day and month counter keys."""
    return (f"pc:{tenant_id}:{contact_id}:d:{at.day}", f"pc:{tenant_id}:{contact_id}:m:{at.month}")


def tenant_key(tenant_id: str, at: Periods) -> str:
    """The tenant's daily recipients counter key."""
    return f"pt:{tenant_id}:d:{at.day}"


def proactive_keys(
    *, tenant_id: str, contact_id: str, channel_id: str, timezone: str, now: datetime
) -> ProactiveKeys:
    """The counter keys of a proactive send at ``now`` (periods in ``timezone``)."""
    at = periods(now, timezone)
    day, month = contact_keys(tenant_id, contact_id, at)
    return ProactiveKeys(
        contact_day=day,
        contact_month=month,
        tenant_day=tenant_key(tenant_id, at),
        channel_second=f"pr:{channel_id}:{int(now.timestamp())}",
    )


def proactive_facts(
    topic: str, consent_wording: str | None, counts: Sequence[int]
) -> ProactiveFacts:
    """Facts from the counts of :meth:`ProactiveKeys.all`, in that order."""
    day, month, tenant_day, channel_second = counts
    return ProactiveFacts(
        topic=topic,
        consent_wording=consent_wording,
        sent_today=day,
        sent_this_month=month,
        tenant_sent_today=tenant_day,
        channel_sent_this_second=channel_second,
    )


def saturated(
    facts: ProactiveFacts, keys: ProactiveKeys, refused: str, policy: GuardPolicy
) -> ProactiveFacts:
    """The facts as they turned out when reserving ``refused`` hit its limit (a lost race)."""
    if refused == keys.contact_day:
        return replace(facts, sent_today=policy.per_contact_day)
    if refused == keys.contact_month:
        return replace(facts, sent_this_month=policy.per_contact_month)
    if refused == keys.tenant_day:
        return replace(facts, tenant_sent_today=policy.daily_recipients)
    return replace(facts, channel_sent_this_second=policy.channel_per_second)
