"""The pure parts of the API's operations: key format and checks, grant validation,
the export document and the admin token file."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from kindbot.core.errors import BadRequestError
from kindbot.core.records.consent import ConsentRecord, ConsentStatus
from kindbot.core.records.operations import ApiKeyRecord
from kindbot.ops.admin_token import load_or_create_admin_token
from kindbot.ops.api_keys import generate_key, hash_key, key_matches, prefix_of
from kindbot.ops.consent import Recorder, check_grant
from kindbot.ops.contacts import check_ref
from kindbot.ops.rights import plain

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
API = Recorder("api", "key:kbk_0123456789ab")


def record_for(key: str, prefix: str) -> ApiKeyRecord:
    return ApiKeyRecord("id1", "t1", prefix, hash_key(key), "", T0, "ops", None)


def test_a_generated_key_carries_its_prefix_and_matches_only_itself() -> None:
    fresh = generate_key()
    record = record_for(fresh.key, fresh.prefix)

    assert prefix_of(fresh.key) == fresh.prefix
    assert len(fresh.key) > 50
    assert fresh.key_hash == hash_key(fresh.key) != fresh.key
    assert key_matches(record, fresh.key)
    assert not key_matches(record, fresh.key + "x")
    assert not key_matches(replace(record, revoked_at=T0), fresh.key), "revoked"
    assert generate_key().key != fresh.key


@pytest.mark.parametrize(
    "token", ["", "kbk_", "kbk_0123456789ab", "kbk_0123456789ab_", "kbk_0123456789abX1", "kba_x"]
)
def test_tokens_not_shaped_like_a_key_have_no_prefix(token: str) -> None:
    assert prefix_of(token) is None


def test_a_grant_keeps_the_exact_wording_and_builds_the_source() -> None:
    grant = check_grant(" news ", "  每月新茶上市时通知我 ", "signup   form", API)

    assert grant.topic == "news"
    assert grant.wording == "每月新茶上市时通知我"
    assert grant.source == "api:key:kbk_0123456789ab (signup form)"
    assert check_grant("news", "yes", None, API).source == "api:key:kbk_0123456789ab"


@pytest.mark.parametrize(
    ("topic", "wording", "evidence", "field", "code"),
    [
        ("news", None, None, "wording", "missing_wording"),
        ("news", " \n ", None, "wording", "missing_wording"),
        ("news", "x" * 2001, None, "wording", "invalid_wording"),
        ("", "ok", None, "topic", "invalid_topic"),
        ("two words", "ok", None, "topic", "invalid_topic"),
        ("t" * 65, "ok", None, "topic", "invalid_topic"),
        ("news", "ok", "e" * 121, "source", "invalid_source"),
    ],
)
def test_bad_grants_name_the_field(
    topic: str, wording: str | None, evidence: str | None, field: str, code: str
) -> None:
    with pytest.raises(BadRequestError) as raised:
        check_grant(topic, wording, evidence, API)
    assert raised.value.code == code
    assert raised.value.message.startswith(f"{field}:")


@pytest.mark.parametrize(
    ("channel", "user", "field"), [(" ", "u1", "channel"), ("web", "", "external_id")]
)
def test_a_contact_address_needs_both_parts(channel: str, user: str, field: str) -> None:
    with pytest.raises(BadRequestError, match=f"^{field}:"):
        check_ref(channel, user)


def test_records_become_plain_json_values_in_utc() -> None:
    in_shanghai = T0.astimezone(timezone(timedelta(hours=8)))
    consent = ConsentRecord(
        "c1", "t1", "k1", "ch1", "news", ConsentStatus.ACTIVE, "api:x", "yes", in_shanghai, None
    )

    assert plain((consent,)) == [
        {
            "id": "c1",
            "tenant_id": "t1",
            "contact_id": "k1",
            "channel_id": "ch1",
            "topic": "news",
            "status": "active",
            "source": "api:x",
            "wording": "yes",
            "granted_at": "2026-11-25T10:00:00+00:00",
            "withdrawn_at": None,
        }
    ]


def test_the_admin_token_is_generated_once_with_private_permissions(tmp_path: Path) -> None:
    first = load_or_create_admin_token(None, tmp_path / "data")

    assert load_or_create_admin_token(None, tmp_path / "data") == first
    assert stat.S_IMODE((tmp_path / "data" / "admin-token").stat().st_mode) == 0o600
    assert load_or_create_admin_token("configured", tmp_path / "data") == "configured"
