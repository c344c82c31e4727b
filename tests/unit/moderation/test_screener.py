"""The screener's verdicts: categories through evasions, direction, purpose, explanations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.contracts.builders import T0

from kindbot.core.records.moderation import ModerationTerm, TermAction
from kindbot.core.screening import (
    ContentCategory,
    ContentContext,
    Direction,
    ScreeningLevel,
    ScreeningVerdict,
)
from kindbot.moderation import default_screener
from kindbot.moderation.screener import LexiconScreener, build_screener

INBOUND = ContentContext(Direction.INBOUND)
REPLY = ContentContext(Direction.OUTBOUND)
PROACTIVE = ContentContext(Direction.OUTBOUND, proactive=True)
GROUP = ContentContext(Direction.OUTBOUND, group=True)


@pytest.fixture(scope="module")
def screener() -> LexiconScreener:
    return default_screener()


def assert_explained(text: str, verdict: ScreeningVerdict) -> None:
    for match in verdict.matches:
        assert text[match.start : match.end].startswith(match.excerpt), match
        assert 0 <= match.start <= match.end <= len(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("今晚来赌场玩两把", ContentCategory.GAMBLING),
        ("今晚来赌 场玩两把", ContentCategory.GAMBLING),  # spaces
        ("今晚来賭場玩兩把", ContentCategory.GAMBLING),  # traditional
        ("今晚来du chang玩两把", ContentCategory.GAMBLING),  # pinyin
        ("今晚来dǔchǎng玩两把", ContentCategory.GAMBLING),  # toned pinyin, no space
        ("今晚来堵场玩两把", ContentCategory.GAMBLING),  # same-sound character
        ("出售冰❤毒", ContentCategory.DRUGS),  # emoji between characters
        ("出售冰\u200b毒", ContentCategory.DRUGS),  # zero-width space
        ("buy ＣＯＣＡＩＮＥ here", ContentCategory.DRUGS),  # full-width
        ("buy c.o.c.a.i.n.e here", ContentCategory.DRUGS),  # dots
        ("buy сосаіnе here", ContentCategory.DRUGS),  # Cyrillic homoglyphs
        ("同城约炮", ContentCategory.PORNOGRAPHY),
        ("招聘兼职刷单，日结300元", ContentCategory.FRAUD),  # combination
        ("请把资金转入安全账户", ContentCategory.FRAUD),
        ("点击 http://bank-verify.top/x 输入银行卡号完成验证", ContentCategory.FRAUD),
        ("请把收到的验证码发给我", ContentCategory.FRAUD),
        ("账户已冻结，请立即转账5000元解冻", ContentCategory.FRAUD),  # money + urgency
        ("加我伟信领优惠", ContentCategory.DIVERSION),  # homophone of 微信
        ("加我 wei xin 领优惠", ContentCategory.DIVERSION),
        ("+V：kindshop99", ContentCategory.DIVERSION),
        ("扫码进群领福利", ContentCategory.DIVERSION),
        ("长按识别二维码添加好友", ContentCategory.DIVERSION),
        ("客服微信号：kb_shop_01", ContentCategory.DIVERSION),
    ],
)
def test_categories_are_found_through_evasions(
    screener: LexiconScreener, text: str, category: ContentCategory
) -> None:
    verdict = screener.screen(text, REPLY)
    assert verdict.level is ScreeningLevel.BLOCK, verdict
    assert category in verdict.categories
    assert_explained(text, verdict)


@pytest.mark.parametrize(
    "text",
    [
        "下个月去澳门旅游，有什么推荐？",
        "本店支持微信支付和支付宝",
        "加微信支付可以吗",
        "满300减50，优惠券可叠加",
        "限时优惠：今天下单立减20元",
        "收件人电话写错了",
        "衣服有大码吗",
        "颜色差大吗",
        "菠菜汤怎么做",
        "运费我先垫付吗",
        "云南威信县能发货吗",
        "为了您的账户安全，请勿向任何人泄露验证码",
        "点击链接查看物流：https://m.kuaidi100.com/result.html",
        "I live in Essex, is shipping free?",
        "订单号 E2026113000123",
    ],
)
def test_ordinary_messages_pass(screener: LexiconScreener, text: str) -> None:
    assert screener.screen(text, REPLY).level is ScreeningLevel.OK
    assert screener.screen(text, INBOUND).level is ScreeningLevel.OK


def test_a_match_explains_itself_with_original_offsets(screener: LexiconScreener) -> None:
    text = "亲，今晚来 賭 場 玩"
    verdict = screener.screen(text, REPLY)
    [match] = verdict.matches
    assert (match.category, match.rule, match.term) == (ContentCategory.GAMBLING, "lexicon", "赌场")
    assert (match.start, match.end, match.excerpt) == (6, 9, "賭 場")


def test_inbound_is_never_blocked(screener: LexiconScreener) -> None:
    verdict = screener.screen("出售冰毒，加我微信abc123", INBOUND)
    assert verdict.level is ScreeningLevel.FLAG
    assert set(verdict.categories) >= {ContentCategory.DRUGS, ContentCategory.DIVERSION}


def test_abuse_counts_inbound_only(screener: LexiconScreener) -> None:
    assert screener.screen("你是傻逼吗", INBOUND).categories == (ContentCategory.ABUSE,)
    assert screener.screen("你是傻逼吗", REPLY).level is ScreeningLevel.OK


def test_a_customers_phone_number_is_fine_the_bots_is_diversion(
    screener: LexiconScreener,
) -> None:
    text = "我的手机号是13812345678"
    assert screener.screen(text, INBOUND).level is ScreeningLevel.OK
    assert screener.screen(text, REPLY).level is ScreeningLevel.FLAG
    assert screener.screen(text, PROACTIVE).level is ScreeningLevel.BLOCK
    assert screener.screen(text, GROUP).level is ScreeningLevel.BLOCK


def test_asking_to_add_a_personal_account_is_outbound_only(screener: LexiconScreener) -> None:
    text = "可以加你微信吗"
    assert screener.screen(text, INBOUND).level is ScreeningLevel.OK
    assert screener.screen("加我微信聊", REPLY).level is ScreeningLevel.BLOCK


def term(text: str, action: TermAction, category: str | None, tenant: str | None) -> ModerationTerm:
    return ModerationTerm(text, tenant, text, category, action, T0, "test")


def test_tenant_terms_apply_to_that_tenant_only() -> None:
    screener = build_screener([term("快乐水", TermAction.DENY, "drugs", "t1")])
    text = "来一瓶快乐水"
    own = ContentContext(Direction.OUTBOUND, tenant_id="t1")
    other = ContentContext(Direction.OUTBOUND, tenant_id="t2")
    assert screener.screen(text, own).level is ScreeningLevel.BLOCK
    assert screener.screen(text, other).level is ScreeningLevel.OK


def test_a_tenant_may_allow_a_sound_alike_but_never_a_protected_term() -> None:
    screener = build_screener(
        [
            term("薇信茶社", TermAction.ALLOW, None, "t1"),
            term("赌场", TermAction.ALLOW, None, "t1"),
        ]
    )
    own = ContentContext(Direction.OUTBOUND, tenant_id="t1")
    assert screener.screen("加入薇信茶社会员", own).level is ScreeningLevel.OK
    assert screener.screen("加入薇信茶社会员", REPLY).level is ScreeningLevel.BLOCK
    assert screener.screen("今晚来赌场", own).level is ScreeningLevel.BLOCK


def test_the_operator_can_allow_and_deny_platform_wide() -> None:
    screener = build_screener(
        [
            term("博彩史", TermAction.ALLOW, None, None),
            term("快三", TermAction.DENY, "gambling", None),
        ]
    )
    assert screener.screen("澳门博彩史研究", REPLY).level is ScreeningLevel.OK
    assert screener.screen("快三计划", REPLY).categories == (ContentCategory.GAMBLING,)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_a_verdict(text: str) -> None:
    verdict = default_screener().screen(text, REPLY)
    assert_explained(text, verdict)


def test_hostile_inputs_get_a_verdict(screener: LexiconScreener) -> None:
    for text in ["", "\x00" * 1000, "a\ud800b", "赌" * 1_048_576, "❤" * 100_000]:
        assert screener.screen(text, REPLY).level in set(ScreeningLevel)
