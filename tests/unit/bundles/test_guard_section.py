"""A bundle's ``guard:`` section and webhook windows: stricter than the platform or refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from kindbot.bundles.apply import channel_config
from kindbot.bundles.loader import load_bundle
from kindbot.bundles.schema import WebhookSpec
from kindbot.channels.registry import window_policy
from kindbot.channels.webhook import WebhookConfig
from kindbot.core.errors import InputFileError
from kindbot.guard.policy import tenant_policy

HEAD = "tenant: {slug: shop, name: Shop, industry: retail}\n"
HOOK = "channels:\n  - {id: hook, type: webhook, secret: 0123456789abcdef%s}\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_stricter_guard_section_is_the_tenant_policy(tmp_path: Path) -> None:
    bundle = load_bundle(
        write(
            tmp_path,
            HEAD + "guard: {quiet_hours: '20:00-10:00', per_contact_month: 2, "
            "human_confirm_over: 300}\n",
        )
    )
    assert bundle.guard is not None
    policy = tenant_policy(bundle.guard.settings(), timezone="Asia/Shanghai")
    assert (policy.per_contact_month, policy.human_confirm_over) == (2, 300)
    assert str(policy.quiet_hours) == "20:00-10:00"


@pytest.mark.parametrize(
    ("guard", "expected"),
    [
        ("{quiet_hours: '23:00-07:00'}", "must include the platform's 21:00-09:00"),
        ("{per_contact_day: 3}", "per_contact_day = 3"),
        ("{human_confirm_over: 5000}", "human_confirm_over = 5000"),
        ("{trust_tier: 3}", "trust_tier"),
    ],
)
def test_a_looser_guard_section_is_refused_with_its_line(
    tmp_path: Path, guard: str, expected: str
) -> None:
    with pytest.raises(InputFileError) as caught:
        load_bundle(write(tmp_path, HEAD + f"guard: {guard}\n"))
    message = str(caught.value)
    assert "shop.yaml, line 2" in message, message
    assert expected in message, message


def test_a_webhook_window_is_configurable(tmp_path: Path) -> None:
    bundle = load_bundle(write(tmp_path, HEAD + HOOK % ", window_hours: 2, window_messages: 3"))
    spec = bundle.channels[0]
    assert isinstance(spec, WebhookSpec)
    window = window_policy("webhook", "u1", channel_config(spec, "Shop"))
    assert window is not None
    assert (window.after_message, window.message_quota) == (timedelta(hours=2), 3)
    assert WebhookConfig(secret="0123456789abcdef").window("u1") is None


def test_a_window_count_needs_a_window(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="window_messages needs window_hours"):
        load_bundle(write(tmp_path, HEAD + HOOK % ", window_messages: 3"))


def test_service_hours_are_read_in_the_tenant_s_zone(tmp_path: Path) -> None:
    text = HEAD + "service_hours:\n  days:\n    mon-fri: '09:00-18:00'\n    sat: [10:00-12:00]\n"
    bundle = load_bundle(write(tmp_path, text))
    assert bundle.service_hours is not None
    hours = bundle.service_hours.hours("Asia/Shanghai")
    assert hours.timezone == "Asia/Shanghai"
    assert len(hours.openings) == 6


@pytest.mark.parametrize(
    ("section", "line", "expected"),
    [
        ("  days:\n    mon-fri: '09:00-18:00'\n    fri: '10:00-11:00'\n", 4, "fri is also in"),
        ("  days:\n    mon: 9am-5pm\n", 4, "is not a time range"),
        ("  timezone: Mars/Olympus\n  days: {mon: '09:00-18:00'}\n", 3, "unknown time zone"),
        ("  days: {}\n", 3, "days"),
    ],
)
def test_bad_service_hours_are_refused_with_their_line(
    tmp_path: Path, section: str, line: int, expected: str
) -> None:
    with pytest.raises(InputFileError) as caught:
        load_bundle(write(tmp_path, HEAD + "service_hours:\n" + section))
    message = str(caught.value)
    assert f"shop.yaml, line {line}, service_hours" in message, message
    assert expected in message, message
