"""Rules about what is said and where: content moderation and group etiquette (DESIGN.md §5)."""

from __future__ import annotations

from datetime import datetime

from kindbot.core.events import Decision, OutboundAction, SendKind, Severity, Verdict
from kindbot.core.screening import ContentCategory, ScreeningLevel, ScreeningVerdict
from kindbot.guard.facts import OutboundFacts

CATEGORY_ZH = {
    ContentCategory.GAMBLING: "赌博",
    ContentCategory.PORNOGRAPHY: "色情",
    ContentCategory.FRAUD: "诈骗",
    ContentCategory.DRUGS: "毒品",
    ContentCategory.DIVERSION: "导流",
    ContentCategory.ABUSE: "辱骂",
}


def check_content(action: OutboundAction, facts: OutboundFacts, now: datetime) -> Verdict:
    """Every outbound text passes moderation; a ``block`` verdict stops it.

    The screener already weighed direction and purpose (diversion is blocked
    in proactive and group messages only); this rule reports its findings.
    """
    content = facts.content
    if content.level is not ScreeningLevel.BLOCK:
        note = "" if content.level is ScreeningLevel.OK else " (flagged, not blocked)"
        return Verdict(
            Decision.ALLOW, "content", "内容审核通过。", f"Content passed moderation{note}."
        )
    categories = content.categories
    terms = ", ".join(dict.fromkeys(match.excerpt for match in content.matches))
    return Verdict(
        Decision.DENY,
        "content",
        f"内容违规（{'、'.join(CATEGORY_ZH[c] for c in categories)}）：{terms}",
        f"Prohibited content ({', '.join(categories)}): {terms}",
        remedy_zh="删除违规内容后再发送。",
        remedy_en="Remove the flagged content and send again.",
        severity=Severity.HIGH,
    )


def inbound_flag(content: ScreeningVerdict) -> Verdict | None:
    """The audit record of a customer's message moderation found something in (else None).

    Names categories and rules only: the customer's words stay in their
    message (and go with it when the contact is erased), not in the audit log.
    """
    if content.level is ScreeningLevel.OK:
        return None
    categories = content.categories
    rules = ", ".join(dict.fromkeys(match.rule for match in content.matches))
    return Verdict(
        Decision.ALLOW,
        "content",
        f"客户消息被标记（{'、'.join(CATEGORY_ZH[c] for c in categories)}），已记录，照常处理。",
        f"Customer message flagged ({', '.join(categories)}; rules: {rules}); recorded, "
        "handled as usual.",
    )


def check_group(action: OutboundAction, facts: OutboundFacts, now: datetime) -> Verdict:
    """In groups the bot speaks only when mentioned or asked, never proactively, ≤ 20/hour."""
    group = facts.group
    if group is None:
        return Verdict(Decision.ALLOW, "group", "不是群聊。", "Not a group chat.")
    if action.kind is SendKind.PROACTIVE:
        return Verdict(
            Decision.DENY,
            "group",
            "机器人不能在群里主动发消息。",
            "The bot never posts into a group unasked.",
            severity=Severity.HIGH,
        )
    if not group.mentioned:
        return Verdict(
            Decision.DENY,
            "group",
            "群聊中只有被 @ 或被直接提问时才回复。",
            "In a group the bot only answers when mentioned or asked directly.",
        )
    limit = facts.policy.group_per_hour
    if group.sent_last_hour >= limit:
        return Verdict(
            Decision.DENY,
            "group",
            f"该群一小时内已有 {limit} 条机器人消息。",
            f"The group already had {limit} bot messages in the last hour.",
            severity=Severity.LOW,
        )
    return Verdict(Decision.ALLOW, "group", "被 @ 后回复。", "Answering a mention.")
