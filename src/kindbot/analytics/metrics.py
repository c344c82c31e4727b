"""The value metrics (issue 16 §6): exact definitions, as pure functions.

*Activity* is an inbound message or a business event of any type; a
contact's *first seen* is its earliest activity. A period is ``[from, to)``
of local dates in the tenant's time zone (:mod:`kindbot.analytics.periods`).

* ``users.active`` — contacts with activity in the period; ``users.new`` —
  contacts first seen in the period.
* ``orders`` — ``order`` events in the period; ``revenue`` — their amounts
  minus ``refund`` amounts, each by its own ``occurred_at`` in the period (a
  refund of an earlier period's order lowers this period's revenue), in the
  tenant's currency; a decimal string with the currency's places.
* ``value_per_user`` — revenue / users.active, a decimal string with 2 places
  (half away from zero), ``"0.00"`` when nobody was active.
* ``conversion`` — cohort: contacts first seen in the period; converted:
  those with an order at or after first seen and before first seen + ``days``
  (orders after ``to`` count); rate = converted / cohort.
* ``repurchase`` — buyers: contacts whose first order ever is in the period;
  repeat: those with another order strictly after it and before first order +
  ``days``; rate = repeat / buyers.
* ``previous`` — active users, revenue and value per user of the period of
  equal length just before; ``value_decomposition`` — ``users_ratio`` =
  active / previous active, ``value_per_user_ratio``, ``revenue_ratio`` (=
  their product), each null where the previous figure is 0.
* ``retention`` — one cohort per ISO week (Monday start, local) that starts
  in the period: the contacts first seen in that week; ``retained[k]`` =
  members with activity in the k-th week after it, for every week starting
  before ``to``; ``rates[k]`` = retained[k] / size (null for an empty cohort).
* ``conversations`` — see :func:`conversation_health`.

Rates and ratios are numbers rounded half away from zero to 4 places; a rate
with a zero denominator is null, never a division by zero.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from kindbot.analytics.money import format_fraction, format_minor, round_rate
from kindbot.analytics.periods import Period, iso_week
from kindbot.core.records.analytics import (
    CohortWeekCount,
    ConversationFacts,
    FirstBuyer,
    MoneyTotals,
    NewContact,
)

DEFAULT_CONVERSION_DAYS = 30
DEFAULT_REPURCHASE_DAYS = 90
MAX_WINDOW_DAYS = 3660
KEYS = (
    "period",
    "users",
    "orders",
    "revenue",
    "value_per_user",
    "conversion",
    "repurchase",
    "previous",
    "value_decomposition",
    "retention",
    "conversations",
)
"""The metrics document's keys, in order."""


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 4 places; None when ``whole`` is 0."""
    return round_rate(Fraction(part, whole)) if whole else None


def ratio(now: Fraction, before: Fraction) -> float | None:
    """``now / before`` rounded to 4 places; None when ``before`` is 0."""
    return round_rate(now / before) if before else None


@dataclass(frozen=True, slots=True)
class Conversion:
    """Contacts first seen in the period, and those of them who ordered within ``days``."""

    days: int
    cohort: int
    converted: int


def conversion(new_contacts: Sequence[NewContact], days: int) -> Conversion:
    """Converted: a first order ever before first seen + ``days``.

    Every order is itself activity, so a contact's first order is never before
    its first seen: "an order at or after first seen and before first seen +
    days" exists exactly when the first order ever is before first seen + days.
    """
    window = timedelta(days=days)
    converted = sum(
        1
        for c in new_contacts
        if c.first_order_at is not None and c.first_seen <= c.first_order_at < c.first_seen + window
    )
    return Conversion(days, len(new_contacts), converted)


@dataclass(frozen=True, slots=True)
class Repurchase:
    """Contacts whose first order ever is in the period, and those who ordered again."""

    days: int
    buyers: int
    repeat: int


def repurchase(buyers: Sequence[FirstBuyer], days: int) -> Repurchase:
    """Repeat: the next order after the first (strictly later) is before first + ``days``."""
    window = timedelta(days=days)
    repeat = sum(
        1
        for b in buyers
        if b.next_order_at is not None and b.next_order_at < b.first_order_at + window
    )
    return Repurchase(days, len(buyers), repeat)


def net_revenue(money: MoneyTotals) -> int:
    """Order amounts minus refund amounts, in minor units."""
    return money.order_minor - money.refund_minor


def value_per_user(revenue_minor: int, active: int, currency_digits: int) -> Fraction:
    """Revenue per active user in major units (0 when nobody was active)."""
    if not active:
        return Fraction(0)
    return Fraction(revenue_minor, active * 10**currency_digits)


@dataclass(frozen=True, slots=True)
class CohortRow:
    """One weekly cohort: its ISO week, its size and ``retained[k]`` per week after it."""

    cohort_week: str
    size: int
    retained: tuple[int, ...]


def retention(mondays: Sequence[date], counts: Sequence[CohortWeekCount]) -> list[CohortRow]:
    """Weekly cohorts from the per-(cohort week, active week) counts.

    ``mondays`` are the cohort weeks starting in the period (week ``i`` of the
    counts is ``mondays[i]``'s); cohort ``i`` has ``len(mondays) - i`` weeks
    (the k-th after it for every week starting before ``to``). Every member
    is active in its own week (first seen is activity), so ``retained[0]`` is
    the cohort's size.
    """
    table = {(c.cohort_week, c.active_week): c.contacts for c in counts}
    rows = []
    for i, monday in enumerate(mondays):
        retained = tuple(table.get((i, i + k), 0) for k in range(len(mondays) - i))
        rows.append(CohortRow(iso_week(monday), retained[0], retained))
    return rows


def median_seconds(durations: tuple[float, ...]) -> float | None:
    """The median of ``durations`` to one decimal place, half away from zero (None: none)."""
    if not durations:
        return None
    median = Fraction(statistics.median(durations)).limit_denominator(1000)
    return float(format_fraction(median, 1))


def conversation_health(facts: ConversationFacts, active: int) -> dict[str, Any]:
    """Conversation health of the period (the ``conversations`` object).

    * ``conversations`` — conversations with an inbound message in the period;
    * ``bot_answered_share`` — of those, the share where the bot replied (an
      outbound message answering an inbound one, in the period) and no person
      was asked for (no handoff requested in the period);
    * ``handoff_share`` — the share with a handoff requested in the period;
    * ``fallback_share`` — of those, the share where the bot replied with its
      fallback (nothing in the knowledge base answered) in the period (bot
      messages stored before migration 0027 carry no origin and never count);
    * ``csat`` — the mean of the 1–5 satisfaction ratings of handoffs resolved
      in the period (null without ratings), ``csat_ratings`` how many;
    * ``opt_out_rate`` — contacts holding a consent at the period's start (and
      not opted out by message before it) who, in the period, opted out by
      message or came to hold no active consent, over those contacts;
    * ``complaint_rate`` — contacts with a ``complaint`` business event in the
      period (the shop records complaints it receives — through WeChat's
      complaint notices, its own service desk — as events of that type) over
      ``active``, the period's active users; null without active users;
    * ``first_response_median_seconds`` — for handoffs requested in the period,
      the median of the seconds to the first agent message after the request
      (unanswered ones left out; null when none was answered), 1 decimal place.
    """
    csat = format_fraction(Fraction(facts.rating_sum, facts.ratings), 4) if facts.ratings else None
    return {
        "conversations": facts.conversations,
        "bot_answered_share": rate(facts.bot_answered, facts.conversations),
        "fallback_share": rate(facts.fell_back, facts.conversations),
        "handoff_share": rate(facts.handed_off, facts.conversations),
        "csat": float(csat) if csat is not None else None,
        "csat_ratings": facts.ratings,
        "opt_out_rate": rate(facts.opted_out, facts.consenting_at_start),
        "first_response_median_seconds": median_seconds(facts.first_responses),
        "complaint_rate": rate(facts.complained, active),
    }


@dataclass(frozen=True, slots=True)
class MetricsFacts:
    """Everything the document is computed from (read by ``ops.metrics`` from storage)."""

    period: Period
    currency: str
    currency_digits: int
    active: int
    new_contacts: tuple[NewContact, ...]
    money: MoneyTotals
    buyers: tuple[FirstBuyer, ...]
    previous_active: int
    previous_money: MoneyTotals
    mondays: tuple[date, ...]
    cohorts: tuple[CohortWeekCount, ...]
    conversations: ConversationFacts
    conversion_days: int = DEFAULT_CONVERSION_DAYS
    repurchase_days: int = DEFAULT_REPURCHASE_DAYS


def metrics_document(facts: MetricsFacts) -> dict[str, Any]:
    """The metrics document: exactly the keys of :data:`KEYS`, JSON-ready."""
    digits = facts.currency_digits
    revenue = net_revenue(facts.money)
    before = net_revenue(facts.previous_money)
    vpu = value_per_user(revenue, facts.active, digits)
    vpu_before = value_per_user(before, facts.previous_active, digits)
    converted = conversion(facts.new_contacts, facts.conversion_days)
    repeat = repurchase(facts.buyers, facts.repurchase_days)
    document = {
        "period": {"from": facts.period.start.isoformat(), "to": facts.period.end.isoformat()},
        "users": {"active": facts.active, "new": len(facts.new_contacts)},
        "orders": facts.money.orders,
        "revenue": format_minor(revenue, facts.currency),
        "value_per_user": format_fraction(vpu, 2),
        "conversion": {
            "days": converted.days,
            "cohort": converted.cohort,
            "converted": converted.converted,
            "rate": rate(converted.converted, converted.cohort),
        },
        "repurchase": {
            "days": repeat.days,
            "buyers": repeat.buyers,
            "repeat": repeat.repeat,
            "rate": rate(repeat.repeat, repeat.buyers),
        },
        "previous": {
            "users_active": facts.previous_active,
            "revenue": format_minor(before, facts.currency),
            "value_per_user": format_fraction(vpu_before, 2),
        },
        "value_decomposition": {
            "users_ratio": ratio(Fraction(facts.active), Fraction(facts.previous_active)),
            "value_per_user_ratio": ratio(vpu, vpu_before),
            "revenue_ratio": ratio(Fraction(revenue), Fraction(before)),
        },
        "retention": [
            {
                "cohort_week": row.cohort_week,
                "size": row.size,
                "retained": list(row.retained),
                "rates": [rate(n, row.size) for n in row.retained],
            }
            for row in retention(facts.mondays, facts.cohorts)
        ],
        "conversations": conversation_health(facts.conversations, facts.active),
    }
    assert tuple(document) == KEYS
    return document
