"""A campaign report's outward forms: the JSON document (API, ``--json``, the dashboard)
and the CSV (one row per arm), from a :class:`~kindbot.analytics.campaigns.CampaignReport`
whose figures :mod:`kindbot.analytics.campaigns` defines."""

from __future__ import annotations

import csv
import io
from fractions import Fraction

from kindbot.analytics.campaigns import OPT_OUT_FLAG_RATE, ArmReport, CampaignReport
from kindbot.analytics.money import MINOR_DIGITS, format_fraction, format_minor, round_rate


def _rate(value: Fraction | None) -> float | None:
    return round_rate(value) if value is not None else None


def _money(value: Fraction | None, currency: str) -> str | None:
    if value is None:
        return None
    digits = MINOR_DIGITS[currency]
    return format_fraction(value / 10**digits, digits)


def _round4(value: float) -> float:
    return round(value, 4)


def arm_document(arm: ArmReport, currency: str) -> dict[str, object]:
    """One arm as JSON-ready values (rates rounded to 4 places, money as decimal strings)."""
    return {
        "size": arm.size,
        "sent": arm.sent,
        "deferred": arm.deferred,
        "denied": arm.denied,
        "skipped": arm.skipped,
        "delivered": arm.delivered,
        "conversions": arm.conversions,
        "conversion_rate": _rate(arm.conversion_rate),
        "revenue": format_minor(arm.revenue_minor, currency),
        "revenue_per_recipient": _money(arm.revenue_per_recipient, currency),
        "replies": arm.replies,
        "opt_outs": arm.opt_outs,
        "opt_out_rate": _rate(arm.opt_out_rate),
        "complaints": arm.complaints,
        "complaint_rate": _rate(arm.complaint_rate),
    }


def report_document(report: CampaignReport) -> dict[str, object]:
    """The report as one JSON object (what the API returns and ``--json`` prints)."""
    campaign = report.campaign
    uplift = report.uplift
    return {
        "campaign_id": campaign.id,
        "name": campaign.name,
        "status": campaign.status.value,
        "topic": campaign.topic,
        "holdout_share": campaign.holdout_share,
        "attribution_days": campaign.attribution_days,
        "started_at": campaign.started_at.isoformat() if campaign.started_at else None,
        "finished_at": campaign.finished_at.isoformat() if campaign.finished_at else None,
        "currency": report.currency,
        "window_closed": report.window_closed,
        "treatment": arm_document(report.treatment, report.currency),
        "holdout": arm_document(report.holdout, report.currency),
        "uplift": _round4(uplift.difference) if uplift else None,
        "uplift_ci_low": _round4(uplift.low) if uplift else None,
        "uplift_ci_high": _round4(uplift.high) if uplift else None,
        "uplift_ci_method": "wald",
        "incremental_revenue_per_recipient": _money(
            report.incremental_revenue_per_recipient, report.currency
        ),
        "flagged": report.flagged,
        "opt_out_flag_rate": float(OPT_OUT_FLAG_RATE),
    }


CSV_COLUMNS = (
    "campaign_id",
    "name",
    "arm",
    "size",
    "sent",
    "deferred",
    "denied",
    "skipped",
    "delivered",
    "conversions",
    "conversion_rate",
    "revenue",
    "revenue_per_recipient",
    "replies",
    "opt_outs",
    "opt_out_rate",
    "complaints",
    "complaint_rate",
    "uplift",
    "uplift_ci_low",
    "uplift_ci_high",
    "incremental_revenue_per_recipient",
    "flagged",
)


def report_csv(report: CampaignReport) -> str:
    """The report as CSV: a header and one row per arm (treatment, holdout); the
    campaign-wide figures (uplift, its interval, incremental revenue, flag) repeat
    on both rows; empty cells for null."""
    document = report_document(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for arm in ("treatment", "holdout"):
        figures = document[arm]
        assert isinstance(figures, dict)
        row = {**document, **figures, "arm": arm}
        writer.writerow([_cell(row[c], text=c == "name") for c in CSV_COLUMNS])
    return buffer.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object, *, text: bool) -> str:
    """A CSV cell: empty for null; a text cell that a spreadsheet would read as a
    formula is prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    cell = str(value)
    if text and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
