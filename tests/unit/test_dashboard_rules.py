"""The dashboard's pure decisions: lockout, emails, languages, redirects, header paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kindbot.core.errors import BadRequestError
from kindbot.ops.accounts import LOCKOUT, MAX_FAILURES, after_failure, normal_email
from kindbot.web.dashboard.i18n import TEXTS, Lang, choose_lang, from_accept_language, text
from kindbot.web.dashboard.pages import safe_next
from kindbot.web.dashboard.security import is_dashboard_path

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "after", "locked"),
    [(0, 1, False), (3, 4, False), (MAX_FAILURES - 1, 0, True), (MAX_FAILURES + 3, 0, True)],
)
def test_the_fifth_failure_in_a_row_locks_and_resets_the_count(
    before: int, after: int, locked: bool
) -> None:
    state = after_failure(before, NOW)
    assert state.failed_logins == after
    assert state.locked_until == (NOW + LOCKOUT if locked else None)
    assert timedelta(minutes=15) == LOCKOUT


@pytest.mark.parametrize(
    ("raw", "stored"),
    [(" Li.Na@Example.COM ", "li.na@example.com"), ("a@b.cn", "a@b.cn")],
)
def test_emails_are_stored_trimmed_and_lower_cased(raw: str, stored: str) -> None:
    assert normal_email(raw) == stored


@pytest.mark.parametrize("raw", ["", "nobody", "a@b", "@b.cn", "a b@c.cn"])
def test_malformed_emails_are_refused(raw: str) -> None:
    with pytest.raises(BadRequestError) as refused:
        normal_email(raw)
    assert refused.value.code == "invalid_email"


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", Lang.ZH),
        ("en-US,en;q=0.9,zh-CN;q=0.8", Lang.EN),
        ("fr-FR,zh-TW;q=0.5,en;q=0.7", Lang.EN),
        ("fr-FR,zh-TW;q=0.8,en;q=0.7", Lang.ZH),
        ("zh;q=0,en;q=0.1", Lang.EN),
        ("de-DE", None),
        ("", None),
        ("en;q=abc,zh", Lang.ZH),
    ],
)
def test_the_browser_language_is_the_preferred_of_chinese_and_english(
    header: str, lang: Lang | None
) -> None:
    assert from_accept_language(header) == lang


def test_an_explicit_choice_beats_the_cookie_the_saved_one_and_the_browser() -> None:
    assert choose_lang("en", "zh", "zh", "zh-CN") is Lang.EN
    assert choose_lang(None, "zh", "en", "en") is Lang.ZH
    assert choose_lang(None, None, "zh", "en") is Lang.ZH
    assert choose_lang(None, None, None, "zh-CN") is Lang.ZH
    assert choose_lang("xx", None, None, "de") is Lang.EN


def test_every_text_exists_in_both_languages_with_the_same_placeholders() -> None:
    for key, (english, chinese) in TEXTS.items():
        assert english, key
        assert chinese, key
        assert sorted(_fields(english)) == sorted(_fields(chinese)), key
    assert text(Lang.ZH, "signed_out_others", count=2) == "已退出 2 个登录。"


def _fields(template: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


@pytest.mark.parametrize(
    ("target", "goes_to"),
    [
        ("/dashboard/teashop", "/dashboard/teashop"),
        ("https://evil.example/", "/dashboard"),
        ("//evil.example/", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        (None, "/dashboard"),
        ("", "/dashboard"),
    ],
)
def test_after_sign_in_only_same_site_paths_are_followed(target: str | None, goes_to: str) -> None:
    assert safe_next(target) == goes_to


@pytest.mark.parametrize(
    ("path", "dashboard"),
    [
        ("/", True),
        ("/login", True),
        ("/dashboard", True),
        ("/dashboard/teashop", True),
        ("/account/password", True),
        ("/admin", True),
        ("/admin/tenants/teashop/suspend", True),
        ("/administrator", False),
        ("/dashboards", False),
        ("/api/v1/tenants", False),
        ("/chat/teashop.web", False),
        ("/channels/teashop.oa/callback", False),
    ],
)
def test_security_headers_cover_the_dashboard_only(path: str, dashboard: bool) -> None:
    assert is_dashboard_path(path) is dashboard
