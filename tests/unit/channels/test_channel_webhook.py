"""Pure parts of the webhook channel: signatures and parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kindbot.channels.webhook import parse, sign, verify_signature
from kindbot.core.errors import BadRequestError, SignatureError
from kindbot.core.events import InboundKind

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def test_signature_is_hex_hmac_sha256_of_the_raw_body() -> None:
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert sign("Jefe", b"what do ya want for nothing?") == expected


@pytest.mark.parametrize("header", [None, "", "abc", sign("other-secret", b"{}")])
def test_wrong_or_missing_signatures_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_signature("secret", b"{}", header)


def test_uppercase_signature_is_accepted() -> None:
    verify_signature("secret", b"{}", sign("secret", b"{}").upper())


def test_parse_with_and_without_message_id() -> None:
    with_id = parse(b'{"user":"u","text":"hi","id":"42"}', channel_public_id="s.h", now=NOW)
    without = parse(b'{"user":"u","text":"hi"}', channel_public_id="s.h", now=NOW)
    other = parse(b'{"user":"u","text":"hi"}', channel_public_id="s.h", now=NOW)
    assert with_id.idempotency_key == "id:u:42"
    assert with_id.kind is InboundKind.TEXT
    assert without.idempotency_key != other.idempotency_key


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b'{"user":"u"}', b'{"user":"","text":"x"}', b'{"user":"u","text":"x","id":7}'],
)
def test_parse_rejects_malformed_bodies(body: bytes) -> None:
    with pytest.raises(BadRequestError):
        parse(body, channel_public_id="s.h", now=NOW)


def test_keys_of_different_senders_never_collide() -> None:
    # Issue 13, defect 5: the key is scoped by sender, and parts cannot run together.
    a = parse(b'{"user":"a:b","text":"hi","id":"c"}', channel_public_id="s.h", now=NOW)
    b = parse(b'{"user":"a","text":"hi","id":"b:c"}', channel_public_id="s.h", now=NOW)
    c = parse(b'{"user":"z","text":"hi","id":"c"}', channel_public_id="s.h", now=NOW)
    assert len({a.idempotency_key, b.idempotency_key, c.idempotency_key}) == 3
