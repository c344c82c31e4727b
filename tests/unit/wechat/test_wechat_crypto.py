"""The AES envelope and signatures: round trips, 32-byte padding, tampering, rotation."""

from __future__ import annotations

import base64
import secrets

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kindbot.channels.wechat.crypto import (
    WeChatCryptoError,
    WeChatSignatureError,
    check_timestamp,
    decode_aes_key,
    decrypt,
    decrypt_with_keys,
    encrypt,
    sha1_signature,
    signature_matches,
)

ENCODING_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
OTHER_ENCODING_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
KEY = decode_aes_key(ENCODING_KEY)
OTHER_KEY = decode_aes_key(OTHER_ENCODING_KEY)
APP_ID = "wx5823bf96d3bd56c7"


def _raw_aes(key: bytes, data: bytes, *, decrypt_it: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))
    op = cipher.decryptor() if decrypt_it else cipher.encryptor()
    return op.update(data) + op.finalize()


def _seal_raw(body: bytes, key: bytes = KEY) -> str:
    """Encrypt an already padded body: for building malformed envelopes."""
    return base64.b64encode(_raw_aes(key, body, decrypt_it=False)).decode()


@pytest.mark.parametrize("size", [0, 1, 11, 12, 27, 28, 44, 100, 1000, 4097])
def test_round_trip_with_a_random_prefix(size: int) -> None:
    plaintext = secrets.token_bytes(size)
    sealed = encrypt(plaintext, KEY, APP_ID)
    assert decrypt(sealed, KEY, receive_id=APP_ID) == plaintext
    assert encrypt(plaintext, KEY, APP_ID) != sealed  # the prefix is random


@pytest.mark.parametrize("size", range(0, 70))
def test_padding_is_always_to_32_bytes(size: int) -> None:
    plaintext = b"x" * size
    raw = base64.b64decode(encrypt(plaintext, KEY, APP_ID))
    assert len(raw) % 32 == 0
    padded = _raw_aes(KEY, raw, decrypt_it=True)
    pad = padded[-1]
    assert 1 <= pad <= 32
    assert padded[-pad:] == bytes([pad]) * pad
    assert len(padded) - pad == 16 + 4 + size + len(APP_ID)


def test_a_body_that_a_16_byte_padder_would_pad_differently_round_trips() -> None:
    # 16 + 4 + 10 + 18 = 48 bytes: a multiple of 16 but not of 32, so the pad is 16 bytes of 0x10
    plaintext = b"0123456789"
    sealed = encrypt(plaintext, KEY, APP_ID)
    padded = _raw_aes(KEY, base64.b64decode(sealed), decrypt_it=True)
    assert padded[-16:] == bytes([16]) * 16
    assert decrypt(sealed, KEY, receive_id=APP_ID) == plaintext


def test_a_full_block_of_padding_round_trips() -> None:
    plaintext = b"x" * (64 - 16 - 4 - len(APP_ID))  # body is exactly 64 bytes → 32 bytes of 0x20
    padded = _raw_aes(KEY, base64.b64decode(encrypt(plaintext, KEY, APP_ID)), decrypt_it=True)
    assert padded[-32:] == bytes([32]) * 32
    assert decrypt(encrypt(plaintext, KEY, APP_ID), KEY, receive_id=APP_ID) == plaintext


def test_fixed_prefix_is_used_verbatim() -> None:
    prefix = b"0123456789abcdef"
    sealed = encrypt(b"hi", KEY, APP_ID, random16=prefix)
    assert _raw_aes(KEY, base64.b64decode(sealed), decrypt_it=True)[:16] == prefix
    assert sealed == encrypt(b"hi", KEY, APP_ID, random16=prefix)
    with pytest.raises(ValueError, match="random16"):
        encrypt(b"hi", KEY, APP_ID, random16=b"short")


@pytest.mark.parametrize(
    ("ciphertext", "code"),
    [
        ("not base64!", "bad_base64"),
        ("QUJD", "bad_block_size"),  # 3 bytes
        ("", "bad_block_size"),
        (base64.b64encode(b"\0" * 24).decode(), "bad_block_size"),
    ],
)
def test_malformed_ciphertexts_have_specific_codes(ciphertext: str, code: str) -> None:
    with pytest.raises(WeChatCryptoError) as exc:
        decrypt(ciphertext, KEY, receive_id=APP_ID)
    assert exc.value.code == code
    assert exc.value.http_status == 400


@pytest.mark.parametrize("pad", [0, 33, 255])
def test_pad_values_outside_1_to_32_are_refused(pad: int) -> None:
    body = b"r" * 16 + (0).to_bytes(4, "big") + APP_ID.encode()
    body += b"z" * (-(len(body) + 1) % 32) + bytes([pad])
    with pytest.raises(WeChatCryptoError) as exc:
        decrypt(_seal_raw(body), KEY, receive_id=APP_ID)
    assert exc.value.code == "bad_padding"


def test_unequal_pad_bytes_are_refused() -> None:
    body = b"r" * 16 + (2).to_bytes(4, "big") + b"hi" + APP_ID.encode()
    pad = 32 - len(body) % 32
    tampered = body + bytes([pad]) * (pad - 2) + bytes([pad + 1, pad])
    with pytest.raises(WeChatCryptoError) as exc:
        decrypt(_seal_raw(tampered), KEY, receive_id=APP_ID)
    assert exc.value.code == "bad_padding"


def test_flipped_last_block_is_refused_as_padding() -> None:
    raw = bytearray(base64.b64decode(encrypt(b"hello", KEY, APP_ID)))
    raw[-1] ^= 0x01
    with pytest.raises(WeChatCryptoError) as exc:
        decrypt(base64.b64encode(bytes(raw)).decode(), KEY, receive_id=APP_ID)
    assert exc.value.code in {"bad_padding", "bad_length", "receive_id_mismatch"}


@pytest.mark.parametrize(
    ("length_field", "code"), [(2**32 - 1, "bad_length"), (1000, "bad_length")]
)
def test_length_fields_past_the_data_are_refused(length_field: int, code: str) -> None:
    body = b"r" * 16 + length_field.to_bytes(4, "big") + b"hello" + APP_ID.encode()
    pad = 32 - len(body) % 32
    with pytest.raises(WeChatCryptoError) as exc:
        decrypt(_seal_raw(body + bytes([pad]) * pad), KEY, receive_id=APP_ID)
    assert exc.value.code == code


def test_a_too_short_envelope_is_refused() -> None:
    body = b"r" * 10 + bytes([22]) * 22  # 32 bytes, 22 of padding → 10 bytes left
    with pytest.raises(WeChatCryptoError) as exc:
        decrypt(_seal_raw(body), KEY, receive_id=APP_ID)
    assert exc.value.code == "bad_length"


def test_receive_id_is_checked_unless_none() -> None:
    sealed = encrypt(b"hello", KEY, "wx-other")
    with pytest.raises(WeChatCryptoError) as exc:
        decrypt(sealed, KEY, receive_id=APP_ID)
    assert exc.value.code == "receive_id_mismatch"
    with pytest.raises(WeChatCryptoError):
        decrypt(sealed, KEY, receive_id="")
    assert decrypt(sealed, KEY, receive_id=None) == b"hello"
    empty = encrypt(b"bot", KEY, "")
    assert decrypt(empty, KEY, receive_id="") == b"bot"
    with pytest.raises(WeChatCryptoError):
        decrypt(empty, KEY, receive_id=APP_ID)


def test_wrong_key_fails_with_a_crypto_error_never_a_bare_exception() -> None:
    for size in range(40):
        with pytest.raises(WeChatCryptoError):
            decrypt(encrypt(b"m" * size, KEY, APP_ID), OTHER_KEY, receive_id=APP_ID)


def test_key_rotation_tries_current_then_previous() -> None:
    sealed_old = encrypt(b"old", OTHER_KEY, APP_ID)
    sealed_new = encrypt(b"new", KEY, APP_ID)
    assert decrypt_with_keys(sealed_new, [KEY, OTHER_KEY], receive_id=APP_ID) == (b"new", KEY)
    assert decrypt_with_keys(sealed_old, [KEY, OTHER_KEY], receive_id=APP_ID) == (
        b"old",
        OTHER_KEY,
    )
    with pytest.raises(WeChatCryptoError) as exc:
        decrypt_with_keys(sealed_old, [KEY], receive_id=APP_ID)
    with pytest.raises(WeChatCryptoError) as first_only:
        decrypt(sealed_old, KEY, receive_id=APP_ID)
    assert exc.value.code == first_only.value.code
    with pytest.raises(WeChatCryptoError) as none:
        decrypt_with_keys(sealed_new, [], receive_id=APP_ID)
    assert none.value.code == "encryption_not_configured"


@pytest.mark.parametrize("bad", ["", "short", "A" * 42, "A" * 44, "!" * 43, "AAAA" * 10 + "A=="])
def test_bad_encoding_aes_keys(bad: str) -> None:
    with pytest.raises(WeChatCryptoError) as exc:
        decode_aes_key(bad)
    assert exc.value.code == "bad_aes_key"


def test_a_key_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(WeChatCryptoError) as exc:
        encrypt(b"x", KEY[:16], APP_ID)
    assert exc.value.code == "bad_aes_key"


def test_signature_is_sha1_of_the_sorted_parts() -> None:
    assert sha1_signature("b", "a", "c") == sha1_signature("c", "b", "a")
    assert sha1_signature("b", "a") == "da23614e02469a0d7c7bd1bdab5c9c474b1904dc"  # sha1("ab")


@pytest.mark.parametrize("expected", [None, "", "0" * 40, "zz", "é" * 40])
def test_signature_mismatch_is_false(expected: str | None) -> None:
    assert not signature_matches(expected, "token", "1", "2")


def test_signature_match_is_case_insensitive() -> None:
    assert signature_matches(sha1_signature("t", "1", "2").upper(), "t", "1", "2")


def test_timestamp_window() -> None:
    check_timestamp("1000", now=1300, max_clock_skew=300)
    check_timestamp("1", now=10**9, max_clock_skew=0)
    for bad, code in [("999", "stale_timestamp"), ("x1", "bad_timestamp"), ("١٢", "bad_timestamp")]:
        with pytest.raises(WeChatSignatureError) as exc:
            check_timestamp(bad, now=1300, max_clock_skew=300)
        assert exc.value.code == code
        assert exc.value.http_status == 403
