"""Table tests of prohibited-industry matching (DESIGN.md §1 principle 6)."""

from __future__ import annotations

import pytest

from kindbot.core.events import Decision
from kindbot.guard.industries import (
    DEFAULT_PROHIBITED,
    ProhibitedIndustry,
    find_prohibited,
    prohibited_reason,
)

REFUSED = {
    # Chinese
    "赌博": "gambling",
    "博彩": "gambling",
    "网络赌博平台": "gambling",
    "赌 博": "gambling",
    "賭博": "gambling",
    "色情": "adult",
    "成人": "adult",
    "成人内容": "adult",
    "诈骗": "fraud",
    "非法借贷": "fraud",
    "高利贷": "fraud",
    "刷单": "traffic_farming",
    "引流": "traffic_farming",
    "流量": "traffic_farming",
    "电商刷单服务": "traffic_farming",
    # English, any case
    "gambling": "gambling",
    "Casino": "gambling",
    "online casinos": "gambling",
    "Sports Betting": "gambling",
    "adult": "adult",
    "Adult Content": "adult",
    "pornography": "adult",
    "fraud": "fraud",
    "unlicensed lending": "fraud",
    "Loan Sharking": "fraud",
    "money laundering": "fraud",
    "marketplace traffic farming": "traffic_farming",
    "fake reviews": "traffic_farming",
    # ids in any spelling
    "traffic_farming": "traffic_farming",
    "Traffic-Farming": "traffic_farming",
    # full width
    "ＧＡＭＢＬＩＮＧ": "gambling",
    "ｃａｓｉｎｏ": "gambling",
    "　赌博　": "gambling",
    "Ｆｒａｕｄ": "fraud",
}

ACCEPTED = [
    "retail",
    "Retail",
    "ｒｅｔａｉｌ",
    "茶叶零售",
    "tea shop",
    "tea",
    "restaurant",
    "餐饮",
    "成人教育",  # adult education: 成人 alone is refused, not every word containing it
    "Adult Education",
    "anti-fraud consulting",
    "流量卡零售",  # SIM data plans
    "boutique",
    "game development",
    "",
]


@pytest.mark.parametrize("industry", list(REFUSED), ids=list(REFUSED))
def test_prohibited_industry_is_refused(industry: str) -> None:
    category = find_prohibited(industry, DEFAULT_PROHIBITED)
    assert category is not None, industry
    assert category.id == REFUSED[industry]
    verdict = prohibited_reason(industry, DEFAULT_PROHIBITED)
    assert verdict is not None
    assert verdict.decision is Decision.DENY
    assert verdict.rule == "tenant_status"
    assert category.id in verdict.reason_en
    assert category.label_zh in verdict.reason_zh
    assert verdict.remedy_en
    assert verdict.remedy_zh


@pytest.mark.parametrize("industry", ACCEPTED)
def test_ordinary_industry_is_accepted(industry: str) -> None:
    assert find_prohibited(industry, DEFAULT_PROHIBITED) is None
    assert prohibited_reason(industry, DEFAULT_PROHIBITED) is None


def test_default_list_has_stable_ids_and_both_labels() -> None:
    assert [c.id for c in DEFAULT_PROHIBITED] == ["gambling", "adult", "fraud", "traffic_farming"]
    for category in DEFAULT_PROHIBITED:
        assert category.label_zh
        assert category.label_en
        assert category.aliases


def test_an_operator_list_replaces_the_default() -> None:
    custom = (ProhibitedIndustry("tobacco", "烟草", "tobacco", aliases=("卷烟", "vape")),)
    assert find_prohibited("卷烟批发", custom) == custom[0]
    assert find_prohibited("Vapes", custom) == custom[0]
    assert find_prohibited("赌博", custom) is None
    assert find_prohibited("anything", ()) is None
