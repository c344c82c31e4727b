"""Violation accounting: severities weigh, a rolling score sets the tenant's standing.

Pure functions; the pipeline records each weighed denial and applies the
standing this module computes (DESIGN.md §5: warning → throttle → suspension).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from kindbot.core.events import Decision, Severity, Verdict

SCORE_WINDOW = timedelta(days=7)
"""The score sums the weights of the last seven days."""

WEIGHTS = {Severity.NONE: 0, Severity.LOW: 1, Severity.HIGH: 5}


class Standing(StrEnum):
    """Where a tenant stands; ``suspended`` is also the tenant's status."""

    OK = "ok"
    WARNING = "warning"
    THROTTLED = "throttled"
    SUSPENDED = "suspended"


THRESHOLDS: tuple[tuple[int, Standing], ...] = (
    (50, Standing.SUSPENDED),
    (25, Standing.THROTTLED),
    (10, Standing.WARNING),
)
"""Score at or above → standing, most severe first."""

_ORDER = [Standing.OK, Standing.WARNING, Standing.THROTTLED, Standing.SUSPENDED]


def weight(severity: Severity) -> int:
    """What one denial of this severity adds to the score."""
    return WEIGHTS[severity]


def standing_for(score: int) -> Standing:
    """The standing a score earns."""
    for threshold, standing in THRESHOLDS:
        if score >= threshold:
            return standing
    return Standing.OK


def escalation(current: Standing, score: int) -> Standing | None:
    """The new standing when ``score`` earns a worse one than ``current``, else None.

    Standing only worsens automatically; getting better is a platform admin's
    decision (reinstatement), which is audited with a reason.
    """
    earned = standing_for(score)
    return earned if _ORDER.index(earned) > _ORDER.index(current) else None


def standing_verdict(standing: Standing, score: int) -> Verdict:
    """The audit record of an automatic escalation (a deny for suspension, else an allow)."""
    texts = {
        Standing.WARNING: (
            "违规积分达到警告线：请检查发送行为。",
            "Violation score reached the warning level.",
        ),
        Standing.THROTTLED: (
            "违规积分达到限流线：主动消息额度降为四分之一。",
            "Violation score reached the throttle level: proactive quotas cut to a quarter.",
        ),
        Standing.SUSPENDED: (
            "违规积分达到暂停线：商户已被自动暂停，等待平台复核。",
            "Violation score reached the suspension level: the tenant is suspended pending review.",
        ),
    }
    zh, en = texts.get(standing, ("状态正常。", "In good standing."))
    decision = Decision.DENY if standing is Standing.SUSPENDED else Decision.ALLOW
    return Verdict(
        decision,
        "violations",
        f"{zh}（积分 {score}）",
        f"{en} (score {score})",
        remedy_zh="平台管理员复核后可恢复。" if standing is Standing.SUSPENDED else "",
        remedy_en="A platform admin may reinstate after review."
        if standing is Standing.SUSPENDED
        else "",
    )
