"""The guard's decisions: pure functions of (action, facts, now).

Every rule of the catalog (DESIGN.md §5) is one function in
:data:`OUTBOUND_RULES` (``opt_out`` is inbound, ``disclosure`` amends an
allowed reply). :func:`decide_outbound` runs all of them, so an explanation
always shows every rule's view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from kindbot.core.events import (
    Decision,
    InboundAction,
    InboundDecision,
    InboundKind,
    OutboundAction,
    OutboundDecision,
    OutboundReply,
    ReplyOrigin,
    Severity,
    Verdict,
)
from kindbot.core.lang import pick
from kindbot.core.records.tenancy import TenantStatus
from kindbot.guard import texts
from kindbot.guard.content_rules import check_content, check_group
from kindbot.guard.conversation_rules import check_reply_burst, check_window
from kindbot.guard.facts import OutboundFacts
from kindbot.guard.keywords import canonical_keyword, is_opt_in, is_opt_out
from kindbot.guard.proactive_rules import (
    check_consent,
    check_frequency,
    check_human_confirm,
    check_quiet_hours,
)

AIGC_LABEL_ZH = "【AI 生成】"
AIGC_LABEL_EN = "[AI-generated] "


def _allow(rule: str, zh: str, en: str) -> Verdict:
    return Verdict(Decision.ALLOW, rule, zh, en)


def check_tenant_status(action: OutboundAction, facts: OutboundFacts, now: datetime) -> Verdict:
    """Suspended tenants send nothing; pending tenants only reach test contacts."""
    if facts.tenant_status is TenantStatus.SUSPENDED:
        return Verdict(
            Decision.DENY,
            "tenant_status",
            "该商户已被暂停，不能发送消息。",
            "This tenant is suspended and cannot send messages.",
            remedy_zh="平台管理员复核并恢复后可发送。",
            remedy_en="Allowed after a platform admin reviews and reinstates the tenant.",
        )
    if facts.tenant_status is TenantStatus.PENDING and not facts.contact_is_test:
        return Verdict(
            Decision.DENY,
            "tenant_status",
            "商户尚在审核中，只能给测试联系人发消息。",
            "This tenant is pending review and may only message its test contacts.",
            remedy_zh="审核通过后可发送。",
            remedy_en="Allowed once the tenant is approved.",
            severity=Severity.LOW,
        )
    return _allow("tenant_status", "商户状态正常。", "The tenant may send.")


OutboundRule = Callable[[OutboundAction, OutboundFacts, datetime], Verdict]

OUTBOUND_RULES: tuple[OutboundRule, ...] = (
    check_tenant_status,
    check_content,
    check_group,
    check_window,
    check_consent,
    check_frequency,
    check_quiet_hours,
    check_reply_burst,
    check_human_confirm,
)
"""Every outbound rule, in the order their verdicts are listed."""


def with_disclosure(reply: OutboundReply, facts: OutboundFacts) -> tuple[OutboundReply, Verdict]:
    """Label the conversation's first bot message as AI, and generated text as AIGC."""
    text = reply.text
    notes: list[str] = []
    if reply.origin is ReplyOrigin.GENERATED:
        text = pick(text, AIGC_LABEL_ZH, AIGC_LABEL_EN, default_zh=facts.prefer_chinese) + text
        notes.append("aigc label")
    if facts.bot_messages_in_conversation == 0 and reply.origin is not ReplyOrigin.AGENT:
        disclosure = pick(
            text, texts.DISCLOSURE_ZH, texts.DISCLOSURE_EN, default_zh=facts.prefer_chinese
        )
        text = f"{text}\n{disclosure}"
        notes.append("ai disclosure")
    if not notes:
        return reply, _allow("disclosure", "无需额外标识。", "No label needed.")
    verdict = _allow("disclosure", "已添加 AI 标识。", f"Added: {', '.join(notes)}.")
    return replace(reply, text=text), verdict


def decide_outbound(
    action: OutboundAction, facts: OutboundFacts, now: datetime
) -> OutboundDecision:
    """Run every outbound rule; a denial beats a deferral, which beats an allow.

    The first denying rule decides; with no denial, the deferral with the
    latest ``retry_at`` decides (sending earlier would break it). When every
    rule allows, the reply is amended by the disclosure rule and the deciding
    verdict is the overall allow.
    """
    checks = tuple(rule(action, facts, now) for rule in OUTBOUND_RULES)
    deciding = deciding_verdict(checks)
    if deciding is not None:
        return OutboundDecision(verdict=deciding, reply=action.reply, checks=checks)
    reply, disclosure = with_disclosure(action.reply, facts)
    overall = _allow("guard", "所有规则均通过。", "Every rule allows this message.")
    return OutboundDecision(verdict=overall, reply=reply, checks=(*checks, disclosure))


def deciding_verdict(checks: Sequence[Verdict]) -> Verdict | None:
    """The verdict that stops an action (first deny, else latest defer), None if all allow."""
    deferred: Verdict | None = None
    for verdict in checks:
        if verdict.decision is Decision.DENY:
            return verdict
        if verdict.decision is Decision.DEFER and (
            deferred is None or _later(verdict.retry_at, deferred.retry_at)
        ):
            deferred = verdict
    return deferred


def _later(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and (b is None or a > b)


ECHO_MIN_LENGTH = 8


def is_echo(text: str, recent_bot_texts: Sequence[str]) -> bool:
    """True when ``text`` repeats a recent bot message (and is long enough to be no accident)."""
    folded = canonical_keyword(text)
    if len(folded) < ECHO_MIN_LENGTH:
        return False
    return any(folded == canonical_keyword(bot) for bot in recent_bot_texts)


FOLLOW_EVENTS = {"subscribe": InboundAction.FOLLOW, "unsubscribe": InboundAction.UNFOLLOW}


def decide_inbound(
    kind: InboundKind,
    text: str,
    *,
    prefer_chinese: bool,
    event: str | None = None,
    recent_bot_texts: Sequence[str] = (),
) -> InboundDecision:
    """Keywords, platform events and bot loops are handled by the guard, not by dialogue.

    Opt-out / opt-in keywords change consent; follow and unfollow events change
    the follow state; every other platform event is recorded and not answered
    (a bot must not talk because a template finished sending). A message that
    repeats one of the bot's recent messages word for word is another bot
    echoing ours (``LOOP``): not answered, and the conversation goes to a person.
    No inbound verdict carries a severity: it judges what the customer (or the
    bot at the other end) sent, never what the tenant tried
    (:mod:`kindbot.guard.attribution`).
    """
    if kind is InboundKind.TEXT and is_echo(text, recent_bot_texts):
        return InboundDecision(
            InboundAction.LOOP,
            Verdict(
                Decision.DENY,
                "reply_burst",
                "检测到机器人回声循环：机器人停止回复，会话转人工。",
                "Bot loop detected: the message echoes the bot; the bot stops, a person is asked.",
            ),
        )
    if kind is InboundKind.UNKNOWN:
        reason_en = "A message type this channel does not know: recorded, not answered."
        return InboundDecision(
            InboundAction.IGNORE, _allow("inbound", "未知消息类型：已记录，不回复。", reason_en)
        )
    if kind is InboundKind.EVENT:
        action = FOLLOW_EVENTS.get(event or "", InboundAction.IGNORE)
        reason_en = f"Platform event {event!r}: recorded, not answered by dialogue."
        return InboundDecision(action, _allow("inbound", f"平台事件 {event}：已记录。", reason_en))
    if kind is InboundKind.TEXT and is_opt_out(text):
        confirm = pick(
            text,
            texts.OPT_OUT_CONFIRM_ZH,
            texts.OPT_OUT_CONFIRM_EN,
            default_zh=prefer_chinese,
        )
        return InboundDecision(
            InboundAction.OPT_OUT,
            _allow(
                "opt_out",
                "用户退订：撤回全部主动消息授权。",
                "Opt-out: all proactive consent withdrawn.",
            ),
            (OutboundReply(confirm, ReplyOrigin.SYSTEM),),
        )
    if kind is InboundKind.TEXT and is_opt_in(text):
        confirm = pick(
            text, texts.OPT_IN_CONFIRM_ZH, texts.OPT_IN_CONFIRM_EN, default_zh=prefer_chinese
        )
        return InboundDecision(
            InboundAction.OPT_IN,
            _allow("opt_out", "用户明确要求重新订阅。", "The contact explicitly re-subscribed."),
            (OutboundReply(confirm, ReplyOrigin.SYSTEM),),
        )
    return InboundDecision(
        InboundAction.CONTINUE, _allow("inbound", "交给对话处理。", "Passed on to dialogue.")
    )
