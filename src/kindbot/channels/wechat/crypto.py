"""Signatures and the AES message envelope of WeChat OA and WeCom callbacks.

Pure functions, no I/O. The envelope (``wechat-protocol.md``, "Crypto") is::

    base64(AES-256-CBC(key, iv=key[:16],
                       pkcs7_32(random16 + len(msg).to_bytes(4, "big") + msg + receive_id)))

with PKCS#7 padding to a **32-byte** block (pad values 1..32). The key is
``base64decode(EncodingAESKey + "=")``. The receive id is the OA AppID, the
WeCom CorpID (or suite id), or ``""`` for WeCom AI-bot callbacks.

Security contract: callers must check ``msg_signature`` (which covers the
ciphertext and the secret token) *before* calling :func:`decrypt`. The
specific error codes below would otherwise form a padding oracle; behind the
signature check an attacker cannot get a modified ciphertext decrypted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kindbot.core.edge import check_identifier
from kindbot.core.errors import BadRequestError, SignatureError

KEY_SIZE = 32
ENCODING_AES_KEY_LENGTH = 43
PAD_BLOCK = 32
AES_BLOCK = 16
RANDOM_PREFIX = 16
_HEADER = RANDOM_PREFIX + 4


class WeChatCryptoError(BadRequestError):
    """A key, ciphertext or decrypted envelope is invalid (HTTP 400).

    Codes: ``bad_aes_key``, ``bad_base64``, ``bad_block_size`` (empty or not a
    multiple of 16 bytes), ``bad_padding``, ``bad_length`` (the length field
    points past the data), ``receive_id_mismatch``, ``encryption_not_configured``.
    """

    code = "bad_ciphertext"
    http_status = 400


class WeChatSignatureError(SignatureError):
    """A callback's signature or timestamp is missing, wrong or stale (HTTP 403).

    Codes: ``missing_signature``, ``bad_signature``, ``bad_timestamp``,
    ``stale_timestamp``, ``encryption_required``.
    """

    code = "bad_signature"
    http_status = 403


def sha1_signature(*parts: str) -> str:
    """Lowercase hex SHA-1 of ``parts`` sorted lexicographically and concatenated.

    ``signature`` = ``sha1_signature(token, timestamp, nonce)``;
    ``msg_signature`` = ``sha1_signature(token, timestamp, nonce, encrypt)``.
    Total: text that is not valid UTF-8 (lone surrogates) is hashed with
    ``surrogatepass`` rather than raising, and never matches a real signature.
    """
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8", "surrogatepass")).hexdigest()


def signature_matches(expected: str | None, *parts: str) -> bool:
    """True when ``expected`` equals :func:`sha1_signature` of ``parts``.

    Constant time; case-insensitive hex; ``None`` or empty never matches.
    """
    if not expected:
        return False
    actual = sha1_signature(*parts).encode("ascii")
    return hmac.compare_digest(actual, expected.strip().lower().encode("utf-8", "surrogatepass"))


MAX_NONCE = 64
"""Longest callback ``nonce`` accepted (WeChat's are ~10 digits)."""
MAX_TIMESTAMP_DIGITS = 12


def check_nonce(nonce: str) -> str:
    """``nonce`` unchanged, or 400 ``identifier_too_long`` past :data:`MAX_NONCE` characters."""
    return check_identifier(nonce, field="nonce", limit=MAX_NONCE)


def check_timestamp(timestamp: str, *, now: int, max_clock_skew: int) -> None:
    """Raise ``bad_timestamp`` / ``stale_timestamp`` (403) unless within the skew.

    A timestamp must be at most :data:`MAX_TIMESTAMP_DIGITS` ASCII digits.
    """
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
        raise WeChatSignatureError("timestamp is not an integer", code="bad_timestamp")
    if max_clock_skew > 0 and abs(now - int(timestamp)) > max_clock_skew:
        raise WeChatSignatureError(
            f"timestamp is more than {max_clock_skew}s away from now", code="stale_timestamp"
        )


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key for a 43-character EncodingAESKey.

    Raises :class:`WeChatCryptoError` (``bad_aes_key``) for any other input.
    """
    if len(encoding_aes_key) != ENCODING_AES_KEY_LENGTH:
        raise WeChatCryptoError(
            f"EncodingAESKey must be {ENCODING_AES_KEY_LENGTH} characters, "
            f"got {len(encoding_aes_key)}",
            code="bad_aes_key",
        )
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WeChatCryptoError("EncodingAESKey is not valid base64", code="bad_aes_key") from exc
    if len(key) != KEY_SIZE:  # pragma: no cover - 43 valid chars always give 32 bytes
        raise WeChatCryptoError("EncodingAESKey does not decode to 32 bytes", code="bad_aes_key")
    return key


def _cipher(key: bytes) -> Cipher[modes.CBC]:
    if len(key) != KEY_SIZE:
        raise WeChatCryptoError(f"AES key must be {KEY_SIZE} bytes", code="bad_aes_key")
    return Cipher(algorithms.AES(key), modes.CBC(key[:AES_BLOCK]))


def encrypt(plaintext: bytes, key: bytes, receive_id: str, *, random16: bytes | None = None) -> str:
    """Seal ``plaintext`` for ``receive_id``; returns the base64 ciphertext.

    ``random16`` is the 16-byte random prefix; leave it ``None`` (drawn from
    :mod:`secrets`) except in tests. Raises ``ValueError`` for a prefix of
    another length and :class:`WeChatCryptoError` for a key that is not 32 bytes.
    """
    prefix = secrets.token_bytes(RANDOM_PREFIX) if random16 is None else random16
    if len(prefix) != RANDOM_PREFIX:
        raise ValueError(f"random16 must be {RANDOM_PREFIX} bytes, got {len(prefix)}")
    body = prefix + len(plaintext).to_bytes(4, "big") + plaintext + receive_id.encode("utf-8")
    pad = PAD_BLOCK - len(body) % PAD_BLOCK
    encryptor = _cipher(key).encryptor()
    sealed = encryptor.update(body + bytes([pad]) * pad) + encryptor.finalize()
    return base64.b64encode(sealed).decode("ascii")


def _unpad(padded: bytes) -> bytes:
    pad = padded[-1]
    if not 1 <= pad <= PAD_BLOCK or pad > len(padded):
        raise WeChatCryptoError("invalid PKCS#7 padding", code="bad_padding")
    if not hmac.compare_digest(padded[-pad:], bytes([pad]) * pad):
        raise WeChatCryptoError("invalid PKCS#7 padding", code="bad_padding")
    return padded[:-pad]


def decrypt(ciphertext_b64: str, key: bytes, *, receive_id: str | None) -> bytes:
    """Open an envelope made by :func:`encrypt`; returns the message bytes.

    Validates the base64, the block size (a non-empty multiple of 16 bytes;
    the padding, not the block count, carries the 32-byte rule), the PKCS#7
    padding (value 1..32, all pad bytes equal), the length field and, unless
    ``receive_id`` is ``None``, that the trailing receive id equals it. Every
    failure raises :class:`WeChatCryptoError` with a specific code.
    """
    try:
        sealed = base64.b64decode(ciphertext_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WeChatCryptoError("ciphertext is not valid base64", code="bad_base64") from exc
    if not sealed or len(sealed) % AES_BLOCK:
        raise WeChatCryptoError(
            f"ciphertext length {len(sealed)} is not a non-empty multiple of {AES_BLOCK}",
            code="bad_block_size",
        )
    decryptor = _cipher(key).decryptor()
    body = _unpad(decryptor.update(sealed) + decryptor.finalize())
    if len(body) < _HEADER:
        raise WeChatCryptoError("decrypted envelope is too short", code="bad_length")
    length = int.from_bytes(body[RANDOM_PREFIX:_HEADER], "big")
    if length > len(body) - _HEADER:
        raise WeChatCryptoError("length field exceeds the decrypted data", code="bad_length")
    message = body[_HEADER : _HEADER + length]
    trailer = body[_HEADER + length :]
    if receive_id is not None and not hmac.compare_digest(trailer, receive_id.encode("utf-8")):
        raise WeChatCryptoError(
            "the message was sealed for another receive id", code="receive_id_mismatch"
        )
    return message


def decrypt_with_keys(
    ciphertext_b64: str, keys: Sequence[bytes], *, receive_id: str | None
) -> tuple[bytes, bytes]:
    """Try each key in order (current first, then previous, for key rotation).

    Returns ``(plaintext, key_that_worked)``; reply with that key. If no key
    works, raises the first key's :class:`WeChatCryptoError`; with no keys at
    all, ``encryption_not_configured``.
    """
    first: WeChatCryptoError | None = None
    for key in keys:
        try:
            return decrypt(ciphertext_b64, key, receive_id=receive_id), key
        except WeChatCryptoError as exc:
            first = first or exc
    if first is None:
        raise WeChatCryptoError("no EncodingAESKey is configured", code="encryption_not_configured")
    raise first
