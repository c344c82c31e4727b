"""A campaign's report: incremental conversion against its holdout. Pure, table-tested.

Definitions (what ``kindbot campaign report``, ``GET …/campaigns/{id}/report``
and the dashboard all show):

- **Arms** are compared as assigned (intent to treat): the treatment arm is
  every recipient chosen to be messaged, whether the guard then sent, deferred
  or refused the message; the holdout is never messaged. Comparing only the
  messaged recipients would compare people the guard let through (consented,
  recently active) with everyone, which is not a random split.
- A recipient's **anchor** is when its message was admitted to the outbox
  (``sent_at``), else the campaign's start. A campaign not yet started has no
  anchor, so no figures beyond sizes and statuses.
- **Conversion**: the recipient has at least one ``order`` event in
  ``[anchor, anchor + attribution window)``. **Revenue**: its orders minus its
  refunds in that window, in integer minor units of the report's currency
  (other currencies are left out), exact.
- **Uplift** = conversion rate of the treatment − that of the holdout, with a
  **95 % Wald interval** for a difference of two independent proportions:
  ``d ± 1.959964 × sqrt(p₁(1−p₁)/n₁ + p₀(1−p₀)/n₀)``. (Wald is simple and
  standard; it is too narrow when a rate is near 0 or 1 or an arm is small —
  with both rates 0 or 1 the interval collapses to the point.) None without a
  holdout or an empty treatment.
- **Incremental revenue per recipient** = revenue per treatment recipient −
  revenue per holdout recipient.
- **Replies**, **opt-outs**: recipients with an inbound message (of any kind,
  an opt-out word included), or a consent withdrawal or opt-out by message,
  after the anchor and less than 48 hours after it (``anchor < at < anchor +
  48 h``: what came before or with the message is no reaction to it).
- **Complaints**: recipients with a ``complaint`` business event (the
  complaints the shop receives, recorded as events of that type — as the
  metrics' ``complaint_rate``) in the same 48 hours after the anchor.
- **Flagged** when the treatment's opt-out rate, or its complaint rate, is
  above :data:`OPT_OUT_FLAG_RATE` (2 %) and above the holdout's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from kindbot.core.records.campaigns import (
    Arm,
    CampaignRecipient,
    CampaignRecord,
    ContactMoment,
    ContactMoney,
    RecipientStatus,
)

Z_95 = 1.959963984540054
"""The standard normal quantile of 0.975."""

REACTION_WINDOW = timedelta(hours=48)
"""Replies and opt-outs count within this long of a recipient's anchor."""

OPT_OUT_FLAG_RATE = Fraction(2, 100)
"""A treatment opt-out rate above this (and above the holdout's) flags the campaign."""

ORDER = "order"
REFUND = "refund"


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """Everything a report is computed from (read by ``ops.campaigns.campaign_report``)."""

    campaign: CampaignRecord
    recipients: tuple[CampaignRecipient, ...]
    delivered: frozenset[str]
    money: tuple[ContactMoney, ...]
    inbound: tuple[ContactMoment, ...]
    opt_outs: tuple[ContactMoment, ...]
    currency: str
    now: datetime
    complaints: tuple[ContactMoment, ...] = ()


@dataclass(frozen=True, slots=True)
class ArmReport:
    """One arm's figures (``revenue_minor`` in minor units of the report's currency)."""

    arm: Arm
    size: int
    sent: int
    deferred: int
    denied: int
    skipped: int
    delivered: int
    conversions: int
    revenue_minor: int
    replies: int
    opt_outs: int
    complaints: int = 0

    @property
    def conversion_rate(self) -> Fraction | None:
        """Conversions per recipient (None for an empty arm)."""
        return Fraction(self.conversions, self.size) if self.size else None

    @property
    def revenue_per_recipient(self) -> Fraction | None:
        """Revenue (minor units) per recipient (None for an empty arm)."""
        return Fraction(self.revenue_minor, self.size) if self.size else None

    @property
    def opt_out_rate(self) -> Fraction | None:
        """Opt-outs per recipient (None for an empty arm)."""
        return Fraction(self.opt_outs, self.size) if self.size else None

    @property
    def complaint_rate(self) -> Fraction | None:
        """Complaints per recipient (None for an empty arm)."""
        return Fraction(self.complaints, self.size) if self.size else None


@dataclass(frozen=True, slots=True)
class Uplift:
    """The difference of conversion rates (treatment − holdout) and its 95 % Wald interval."""

    difference: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class CampaignReport:
    """A campaign's report: both arms, the uplift, incremental revenue and the flag."""

    campaign: CampaignRecord
    currency: str
    treatment: ArmReport
    holdout: ArmReport
    uplift: Uplift | None
    incremental_revenue_per_recipient: Fraction | None
    flagged: bool
    window_closed: bool
    """True once every recipient's attribution window has ended (the figures are final)."""


def wald_interval(
    successes_a: int, size_a: int, successes_b: int, size_b: int, z: float = Z_95
) -> Uplift:
    """The difference of proportions a − b with its Wald interval (both sizes > 0)."""
    if size_a <= 0 or size_b <= 0:
        raise ValueError("both groups need at least one member")
    p_a = successes_a / size_a
    p_b = successes_b / size_b
    difference = p_a - p_b
    half = z * math.sqrt(p_a * (1 - p_a) / size_a + p_b * (1 - p_b) / size_b)
    return Uplift(difference, difference - half, difference + half)


def _times_by_contact(moments: Iterable[ContactMoment]) -> dict[str, list[datetime]]:
    times: dict[str, list[datetime]] = defaultdict(list)
    for moment in moments:
        times[moment.contact_id].append(moment.at)
    return times


def _anchor(recipient: CampaignRecipient, started_at: datetime | None) -> datetime | None:
    return recipient.sent_at if recipient.sent_at is not None else started_at


def _arm(
    arm: Arm,
    members: Sequence[CampaignRecipient],
    facts: ReportFacts,
    money: Mapping[str, list[ContactMoney]],
    inbound: Mapping[str, list[datetime]],
    opt_outs: Mapping[str, list[datetime]],
    complaints: Mapping[str, list[datetime]],
) -> ArmReport:
    window = timedelta(days=facts.campaign.attribution_days)
    statuses = [r.status for r in members]
    conversions = revenue = replies = opted_out = complained = 0
    for recipient in members:
        anchor = _anchor(recipient, facts.campaign.started_at)
        if anchor is None:
            continue
        events = [
            m
            for m in money.get(recipient.contact_id, [])
            if anchor <= m.occurred_at < anchor + window
        ]
        if any(m.type == ORDER for m in events):
            conversions += 1
        revenue += sum(m.amount_minor if m.type == ORDER else -m.amount_minor for m in events)
        until = anchor + REACTION_WINDOW
        if any(anchor < at < until for at in inbound.get(recipient.contact_id, [])):
            replies += 1
        if any(anchor < at < until for at in opt_outs.get(recipient.contact_id, [])):
            opted_out += 1
        if any(anchor < at < until for at in complaints.get(recipient.contact_id, [])):
            complained += 1
    return ArmReport(
        arm=arm,
        size=len(members),
        sent=statuses.count(RecipientStatus.SENT),
        deferred=statuses.count(RecipientStatus.DEFERRED),
        denied=statuses.count(RecipientStatus.DENIED),
        skipped=statuses.count(RecipientStatus.SKIPPED),
        delivered=sum(1 for r in members if r.contact_id in facts.delivered),
        conversions=conversions,
        revenue_minor=revenue,
        replies=replies,
        opt_outs=opted_out,
        complaints=complained,
    )


def build_report(facts: ReportFacts) -> CampaignReport:
    """The report of ``facts.campaign`` (definitions in this module's docstring)."""
    money: dict[str, list[ContactMoney]] = defaultdict(list)
    for item in facts.money:
        if item.currency == facts.currency and item.type in (ORDER, REFUND):
            money[item.contact_id].append(item)
    inbound = _times_by_contact(facts.inbound)
    opt_outs = _times_by_contact(facts.opt_outs)
    complaints = _times_by_contact(facts.complaints)
    arms = {
        arm: _arm(
            arm,
            [r for r in facts.recipients if r.arm is arm],
            facts,
            money,
            inbound,
            opt_outs,
            complaints,
        )
        for arm in Arm
    }
    treatment, holdout = arms[Arm.TREATMENT], arms[Arm.HOLDOUT]
    started = facts.campaign.started_at is not None
    uplift = None
    incremental = None
    if started and treatment.size and holdout.size:
        uplift = wald_interval(
            treatment.conversions, treatment.size, holdout.conversions, holdout.size
        )
        incremental = Fraction(treatment.revenue_minor, treatment.size) - Fraction(
            holdout.revenue_minor, holdout.size
        )
    return CampaignReport(
        campaign=facts.campaign,
        currency=facts.currency,
        treatment=treatment,
        holdout=holdout,
        uplift=uplift,
        incremental_revenue_per_recipient=incremental,
        flagged=is_flagged(treatment, holdout),
        window_closed=_window_closed(facts),
    )


def is_flagged(treatment: ArmReport, holdout: ArmReport) -> bool:
    """The treatment's opt-out rate or complaint rate is above :data:`OPT_OUT_FLAG_RATE`
    and above the holdout's (any rate above the threshold, when there is no holdout)."""
    return _raised(treatment.opt_out_rate, holdout.opt_out_rate) or _raised(
        treatment.complaint_rate, holdout.complaint_rate
    )


def _raised(rate: Fraction | None, baseline: Fraction | None) -> bool:
    if rate is None or rate <= OPT_OUT_FLAG_RATE:
        return False
    return baseline is None or rate > baseline


def _window_closed(facts: ReportFacts) -> bool:
    started = facts.campaign.started_at
    if started is None:
        return False
    pending = (RecipientStatus.PLANNED, RecipientStatus.DEFERRED)
    if any(r.status in pending for r in facts.recipients):
        return False
    anchors = [_anchor(r, started) or started for r in facts.recipients] or [started]
    window = timedelta(days=facts.campaign.attribution_days)
    return facts.now >= max(anchors) + window
