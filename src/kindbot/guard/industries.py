"""Prohibited industries (DESIGN.md §1 principle 6): refused when a tenant signs up.

Pure: the default list is data, matching is a function of (declared industry,
list). The operator replaces the list with a YAML file of the same shape
(``KINDBOT_PROHIBITED_INDUSTRIES``); reading that file is the bundle layer's job.

Matching is case-, width- and spacing-insensitive (NFKC, case folding):

* ``id`` and every ``exact`` name match only the whole declared industry
  (``成人`` refuses "成人" but not "成人教育"; ``fraud`` is not "anti-fraud consulting");
* ``aliases`` and both labels match inside it: an alias with Chinese (any
  non-ASCII) characters as a substring of the declared industry with spaces
  and punctuation removed ("网络 赌博" contains 赌博), an ASCII alias as a run
  of whole words ("online casino" contains "casino", "retail" contains no
  alias, "tea" is no word of any alias); a trailing plural "s" is tolerated.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from kindbot.core.events import Decision, Severity, Verdict

RULE = "tenant_status"
_WORD = re.compile(r"[0-9a-z]+")
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class ProhibitedIndustry:
    """One prohibited category: a stable ``id``, labels and the names that match it."""

    id: str
    label_zh: str
    label_en: str
    aliases: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()


def _names(joined: str) -> tuple[str, ...]:
    return tuple(joined.split("|"))


DEFAULT_PROHIBITED: tuple[ProhibitedIndustry, ...] = (
    ProhibitedIndustry(
        id="gambling",
        label_zh="赌博",
        label_en="gambling",
        aliases=_names(
            "赌博|博彩|赌场|赌球|网赌|百家乐|六合彩|私彩|賭博|賭場|賭球|casino|betting|sportsbook"
            "|bookmaker|bookmaking|baccarat|online gaming house"
        ),
        exact=_names("赌|bet|bets"),
    ),
    ProhibitedIndustry(
        id="adult",
        label_zh="色情与成人内容",
        label_en="adult content",
        aliases=_names(
            "色情|情色|淫秽|黄色网站|成人内容|成人网站|成人视频|成人直播|裸聊|约炮|援交|pornography"
            "|porn|adult content|adult entertainment|adult video|adult website|camgirl|xxx"
        ),
        exact=_names("成人|sex|adult only|adults only"),
    ),
    ProhibitedIndustry(
        id="fraud",
        label_zh="诈骗与非法借贷",
        label_en="fraud and unlicensed lending",
        aliases=_names(
            "诈骗|骗局|电信诈骗|传销|洗钱|非法集资|非法借贷|非法放贷|高利贷|套路贷|裸贷|校园贷|资金盘"
            "|詐騙|洗錢|高利貸|scam|phishing|ponzi|pyramid scheme|money laundering"
            "|unlicensed lending|illegal lending|loan sharking|loan shark|payday loan"
        ),
        exact=_names("fraud"),
    ),
    ProhibitedIndustry(
        id="traffic_farming",
        label_zh="刷单引流",
        label_en="marketplace traffic farming",
        aliases=_names(
            "刷单|刷量|刷粉|刷好评|刷评|代刷|引流|僵尸粉|水军|群控|流量造假|买粉|刷單"
            "|traffic farming|click farm|click farming|fake reviews|fake review|fake followers"
            "|review brushing|order brushing"
        ),
        exact=_names("流量|traffic|growth hacking"),
    ),
)
"""The built-in list, used unless the operator configures another one."""


def normalize_industry(text: str) -> str:
    """NFKC (full width → half width), case-folded, runs of whitespace as one space."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().replace("_", " ").split())


def _compact(text: str) -> str:
    return _NOT_WORD.sub("", text)


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _contains_words(words: Sequence[str], wanted: Sequence[str]) -> bool:
    if not wanted:
        return False
    last = len(wanted) - 1
    for start in range(len(words) - last):
        if all(
            words[start + i] == w or (i == last and words[start + i] in (w + "s", w + "es"))
            for i, w in enumerate(wanted)
        ):
            return True
    return False


def _contains(declared: str, alias: str) -> bool:
    term = normalize_industry(alias)
    if not term:
        return False
    if term.isascii():
        return _contains_words(_words(declared), _words(term))
    compact = _compact(term)
    return bool(compact) and compact in _compact(declared)


def _is_exactly(declared: str, name: str) -> bool:
    term = normalize_industry(name)
    return bool(term) and (declared == term or _compact(declared) == _compact(term))


def find_prohibited(
    industry: str, prohibited: Sequence[ProhibitedIndustry]
) -> ProhibitedIndustry | None:
    """The first category ``industry`` falls into, or None."""
    declared = normalize_industry(industry)
    if not declared:
        return None
    for category in prohibited:
        if any(_is_exactly(declared, name) for name in (category.id, *category.exact)):
            return category
        names = (category.label_zh, category.label_en, *category.aliases)
        if any(_contains(declared, name) for name in names):
            return category
    return None


def prohibited_reason(industry: str, prohibited: Sequence[ProhibitedIndustry]) -> Verdict | None:
    """A ``tenant_status`` denial when ``industry`` is prohibited, else None."""
    category = find_prohibited(industry, prohibited)
    if category is None:
        return None
    name_en = category.label_en
    if normalize_industry(name_en) != normalize_industry(category.id):
        name_en += f" ({category.id})"
    return Verdict(
        Decision.DENY,
        RULE,
        f"行业「{industry}」属于平台禁止入驻的行业：{category.label_zh}（{category.id}）。",
        f"Industry {industry!r} is prohibited on this platform: {name_en}; "
        "the tenant cannot be created.",
        remedy_zh="如行业填写有误，请改正 tenant.industry 后重试；如有异议，请联系平台管理员。",
        remedy_en="If the industry was declared by mistake, correct tenant.industry and apply "
        "again; to dispute the decision, contact the platform operator.",
        severity=Severity.HIGH,
    )
