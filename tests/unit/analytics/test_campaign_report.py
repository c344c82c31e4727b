"""The campaign report's definitions, table-tested with figures computed by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kindbot.analytics.campaign_documents import report_csv, report_document
from kindbot.analytics.campaigns import (
    ArmReport,
    ReportFacts,
    build_report,
    is_flagged,
    wald_interval,
)
from kindbot.core.records.campaigns import (
    Arm,
    AudienceKind,
    CampaignRecipient,
    CampaignRecord,
    CampaignStatus,
    ContactMoment,
    ContactMoney,
    RecipientStatus,
    Variant,
)

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

CAMPAIGN = CampaignRecord(
    id="c1",
    tenant_id="t1",
    name="龙井上新",
    topic="new-tea",
    audience_kind=AudienceKind.TAG,
    audience_name="vip",
    variants=(Variant("A", "新茶"),),
    holdout_share=0.2,
    attribution_days=7,
    starts_at=None,
    per_minute=None,
    status=CampaignStatus.FINISHED,
    recipients=6,
    treatment=4,
    created_by="alice",
    approved_by="bob",
    cancelled_by=None,
    created_at=START - HOUR,
    started_at=START,
    finished_at=START + 10 * timedelta(minutes=1),
)


def recipient(
    contact: str, arm: Arm, status: RecipientStatus, sent_at: datetime | None = None
) -> CampaignRecipient:
    return CampaignRecipient(
        campaign_id="c1",
        contact_id=contact,
        arm=arm,
        variant="A" if arm is Arm.TREATMENT else None,
        status=status,
        reason=None,
        decided_at=START - HOUR,
        attempted_at=sent_at,
        sent_at=sent_at,
        message_id=f"m-{contact}" if sent_at else None,
        deferred_id=None,
    )


T, H = Arm.TREATMENT, Arm.HOLDOUT
SENT, DENIED, HELD = RecipientStatus.SENT, RecipientStatus.DENIED, RecipientStatus.HOLDOUT
RECIPIENTS = (
    recipient("t1", T, SENT, START),
    recipient("t2", T, SENT, START + timedelta(minutes=5)),
    recipient("t3", T, DENIED),
    recipient("t4", T, SENT, START + timedelta(minutes=10)),
    recipient("h1", H, HELD),
    recipient("h2", H, HELD),
)
MONEY = (
    ContactMoney("t1", "order", START + DAY, 10000, "CNY"),  # converts: 100.00
    ContactMoney("t1", "refund", START + 2 * DAY, 2000, "CNY"),  # minus 20.00
    ContactMoney("t2", "order", START + 8 * DAY, 5000, "CNY"),  # after its window
    ContactMoney("t3", "order", START + 2 * HOUR, 3000, "CNY"),  # denied: anchored at start
    ContactMoney("t4", "order", START + timedelta(minutes=9), 7000, "CNY"),  # before its send
    ContactMoney("t4", "order", START + DAY, 9900, "USD"),  # another currency
    ContactMoney("h1", "order", START + 3 * DAY, 4000, "CNY"),  # the holdout converts too
)
INBOUND = (
    ContactMoment("t1", START + HOUR),
    ContactMoment("t2", START + 49 * HOUR),  # too late to be a reply
    ContactMoment("h1", START + HOUR),
)
OPT_OUTS = (ContactMoment("t4", START + HOUR),)
COMPLAINTS = (
    ContactMoment("t3", START + 2 * HOUR),
    ContactMoment("t1", START + 50 * HOUR),  # after the 48 hours
)


def facts(**changes: object) -> ReportFacts:
    base = ReportFacts(
        campaign=CAMPAIGN,
        recipients=RECIPIENTS,
        delivered=frozenset({"t1", "t2"}),
        money=MONEY,
        inbound=INBOUND,
        opt_outs=OPT_OUTS,
        currency="CNY",
        now=START + 30 * DAY,
        complaints=COMPLAINTS,
    )
    return replace(base, **changes)  # type: ignore[arg-type]  # the test's own overrides


def test_the_report_by_hand() -> None:
    report = build_report(facts())
    document = report_document(report)

    assert document["treatment"] == {
        "size": 4,
        "sent": 3,
        "deferred": 0,
        "denied": 1,
        "skipped": 0,
        "delivered": 2,
        "conversions": 2,  # t1 and t3
        "conversion_rate": 0.5,
        "revenue": "110.00",  # 100.00 - 20.00 + 30.00
        "revenue_per_recipient": "27.50",
        "replies": 1,
        "opt_outs": 1,
        "opt_out_rate": 0.25,
        "complaints": 1,  # t3 (t1's came after 48 hours)
        "complaint_rate": 0.25,
    }
    assert document["holdout"] == {
        "size": 2,
        "sent": 0,
        "deferred": 0,
        "denied": 0,
        "skipped": 0,
        "delivered": 0,
        "conversions": 1,
        "conversion_rate": 0.5,
        "revenue": "40.00",
        "revenue_per_recipient": "20.00",
        "replies": 1,
        "opt_outs": 0,
        "opt_out_rate": 0.0,
        "complaints": 0,
        "complaint_rate": 0.0,
    }
    # 0.5 - 0.5 ± 1.959964 * sqrt(0.25/4 + 0.25/2) = ± 0.848689
    assert (document["uplift"], document["uplift_ci_low"], document["uplift_ci_high"]) == (
        0.0,
        -0.8487,
        0.8487,
    )
    assert document["incremental_revenue_per_recipient"] == "7.50"  # 27.50 - 20.00
    assert document["flagged"] is True  # 25 % opt-outs against 0 %
    assert document["window_closed"] is True


@pytest.mark.parametrize(
    ("a", "n", "b", "m", "difference", "low", "high"),
    [
        (30, 100, 20, 100, 0.1, -0.01922, 0.21922),
        (2, 4, 1, 2, 0.0, -0.848689, 0.848689),
        (0, 10, 0, 10, 0.0, 0.0, 0.0),  # Wald collapses at 0 %: stated in the docstring
        (5, 50, 1, 25, 0.06, -0.053204, 0.173204),
    ],
)
def test_wald_interval(
    a: int, n: int, b: int, m: int, difference: float, low: float, high: float
) -> None:
    uplift = wald_interval(a, n, b, m)
    assert uplift.difference == pytest.approx(difference, abs=1e-9)
    assert uplift.low == pytest.approx(low, abs=1e-6)
    assert uplift.high == pytest.approx(high, abs=1e-6)


def test_wald_needs_both_groups() -> None:
    with pytest.raises(ValueError, match="at least one"):
        wald_interval(1, 10, 0, 0)


def arm(opt_outs: int, size: int) -> ArmReport:
    return ArmReport(Arm.TREATMENT, size, size, 0, 0, 0, size, 0, 0, 0, opt_outs)


@pytest.mark.parametrize(
    ("treatment", "holdout", "flagged"),
    [
        (arm(2, 100), arm(0, 10), False),  # 2 % is not above 2 %
        (arm(3, 100), arm(0, 10), True),
        (arm(3, 100), arm(1, 10), False),  # the holdout opts out more (10 %)
        (arm(3, 100), arm(0, 0), True),  # no holdout: the threshold alone
        (arm(0, 0), arm(0, 10), False),  # nobody in the treatment
    ],
)
def test_flag(treatment: ArmReport, holdout: ArmReport, flagged: bool) -> None:
    assert is_flagged(treatment, holdout) is flagged


def test_a_campaign_not_started_has_sizes_only() -> None:
    waiting = replace(CAMPAIGN, status=CampaignStatus.SCHEDULED, started_at=None)
    planned = tuple(
        replace(r, status=RecipientStatus.PLANNED, sent_at=None) if r.arm is T else r
        for r in RECIPIENTS
    )
    report = build_report(facts(campaign=waiting, recipients=planned))

    assert (report.treatment.size, report.holdout.size) == (4, 2)
    assert (report.treatment.conversions, report.holdout.conversions) == (0, 0)
    assert report.uplift is None
    assert report.incremental_revenue_per_recipient is None
    assert report.window_closed is False


def test_without_a_holdout_there_is_no_uplift() -> None:
    treated = tuple(r for r in RECIPIENTS if r.arm is T)
    document = report_document(build_report(facts(recipients=treated)))

    assert document["uplift"] is None
    assert document["incremental_revenue_per_recipient"] is None
    assert document["holdout"]["size"] == 0  # type: ignore[index]  # a dict by construction
    assert document["holdout"]["conversion_rate"] is None  # type: ignore[index]


def test_the_window_closes_a_week_after_the_last_send() -> None:
    last_send = START + timedelta(minutes=10)
    assert build_report(facts(now=last_send + 7 * DAY - HOUR)).window_closed is False
    assert build_report(facts(now=last_send + 7 * DAY)).window_closed is True


def test_csv_has_one_row_per_arm_and_no_formulas() -> None:
    named = replace(CAMPAIGN, name="=HYPERLINK(1)")
    lines = report_csv(build_report(facts(campaign=named))).splitlines()

    assert lines[0].split(",")[:4] == ["campaign_id", "name", "arm", "size"]
    assert len(lines) == 3
    treatment = lines[1].split(",")
    holdout = lines[2].split(",")
    assert treatment[:4] == ["c1", "'=HYPERLINK(1)", "treatment", "4"]
    assert holdout[:4] == ["c1", "'=HYPERLINK(1)", "holdout", "2"]
    assert treatment[-7:] == ["1", "0.25", "0.0", "-0.8487", "0.8487", "7.50", "true"]
    assert holdout[16:18] == ["0", "0.0"]  # complaints, complaint_rate


def test_complaints_alone_flag_a_campaign() -> None:
    quiet = build_report(facts(opt_outs=()))
    assert quiet.treatment.opt_outs == 0
    assert quiet.flagged  # 1 complaint of 4 treatment recipients, none in the holdout
    assert not build_report(facts(opt_outs=(), complaints=())).flagged
