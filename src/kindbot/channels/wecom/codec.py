"""The WeCom callback protocol as pure functions.

Unlike the Official Account, WeCom encrypts everything: the ``GET``
verification's ``echostr`` is a ciphertext (:func:`verify_url` returns its
plaintext), and every ``POST`` body is an envelope, either XML
``<xml><ToUserName/><Encrypt/><AgentID/></xml>`` or JSON
``{"tousername", "encrypt", "agentid"}`` (:func:`open_callback`). Both are
signed with ``msg_signature`` = sha1 over (token, timestamp, nonce, ciphertext),
checked before anything is decrypted. The receive id is the CorpID (or the
suite id for third-party apps); a config with ``corp_id=""`` (AI-bot
callbacks, whose receive id is empty) skips the receive-id check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from kindbot.channels.wechat.crypto import (
    WeChatCryptoError,
    WeChatSignatureError,
    check_nonce,
    check_timestamp,
    decode_aes_key,
    decrypt_with_keys,
    encrypt,
    sha1_signature,
    signature_matches,
)
from kindbot.channels.wechat.xmlcodec import (
    MAX_BODY,
    WeChatXmlError,
    parse_fields,
    render_envelope,
)
from kindbot.core.edge import load_json_object
from kindbot.core.errors import BadRequestError


@dataclass(frozen=True, slots=True)
class WeComConfig:
    """A WeCom app's (or AI bot's) callback settings.

    ``previous_encoding_aes_key`` is still accepted after a rotation;
    ``max_clock_skew`` (seconds) bounds |now − timestamp| on POSTs, 0 disables
    it. Construction validates the keys (:class:`WeChatCryptoError`
    ``bad_aes_key``) and that the token is set (``invalid_config``).
    """

    token: str
    corp_id: str
    encoding_aes_key: str
    previous_encoding_aes_key: str | None = None
    max_clock_skew: int = 300

    def __post_init__(self) -> None:
        if not self.token:
            raise BadRequestError("token must not be empty", code="invalid_config")
        self.keys()

    def keys(self) -> tuple[bytes, ...]:
        """The AES keys to try, current first."""
        raw = (self.encoding_aes_key, self.previous_encoding_aes_key)
        return tuple(decode_aes_key(k) for k in raw if k)

    @property
    def receive_id(self) -> str | None:
        """The receive id to check, or ``None`` (no check) when ``corp_id`` is empty."""
        return self.corp_id or None


class WeComCallback(NamedTuple):
    """A verified, decrypted POST: the message ``fields`` and the ``key`` that opened it."""

    fields: dict[str, str]
    key: bytes


def _param(query: Mapping[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        raise WeChatSignatureError(f"query parameter {name} is missing", code="missing_signature")
    return value


def _verify(config: WeComConfig, query: Mapping[str, str], ciphertext: str) -> str:
    """Check ``msg_signature`` over (token, timestamp, nonce, ciphertext); returns the timestamp."""
    signature = _param(query, "msg_signature")
    timestamp, nonce = _param(query, "timestamp"), check_nonce(_param(query, "nonce"))
    if not signature_matches(signature, config.token, timestamp, nonce, ciphertext):
        raise WeChatSignatureError("msg_signature does not match", code="bad_signature")
    return timestamp


def verify_url(config: WeComConfig, query: Mapping[str, str]) -> str:
    """Answer the GET verification: the decrypted ``echostr``, to return as the body.

    ``query`` values must already be URL-decoded. The result is the bare
    plaintext (return it without quotes, BOM or newline). Raises
    :class:`WeChatSignatureError` or :class:`WeChatCryptoError`
    (``bad_plaintext`` when it is not UTF-8).
    """
    echostr = _param(query, "echostr")
    _verify(config, query, echostr)
    plaintext, _key = decrypt_with_keys(echostr, config.keys(), receive_id=config.receive_id)
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WeChatCryptoError("echostr plaintext is not UTF-8", code="bad_plaintext") from exc


def _envelope_ciphertext(body: bytes) -> str:
    """The ciphertext of a JSON (first non-space byte ``{`` or ``[``) or XML envelope."""
    if len(body) > MAX_BODY:
        raise WeChatXmlError(f"body of {len(body)} bytes exceeds {MAX_BODY}", code="xml_too_large")
    if _is_json(body):
        envelope = _json_object(body)
        ciphertext = envelope.get("encrypt")
    else:
        ciphertext = parse_fields(body).get("Encrypt")
    if not isinstance(ciphertext, str) or not ciphertext:
        raise WeChatXmlError("required field Encrypt is missing", code="missing_field")
    return ciphertext


def _is_json(raw: bytes) -> bool:
    """JSON, not XML: the first non-whitespace byte opens an object or array."""
    return raw.lstrip()[:1] in (b"{", b"[")


def _json_object(raw: bytes) -> dict[str, object]:
    return load_json_object(raw)


def _json_fields(raw: bytes) -> dict[str, str]:
    """A JSON message's top-level members as strings (nested values as compact JSON)."""
    fields: dict[str, str] = {}
    for name, value in _json_object(raw).items():
        if isinstance(value, str):
            fields[name] = value
        else:
            fields[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return fields


def open_callback(
    config: WeComConfig, query: Mapping[str, str], body: bytes, *, now: int
) -> WeComCallback:
    """Verify, decrypt and parse one POST.

    The envelope is JSON when its first non-space byte is ``{`` (or ``[``,
    refused as not an object), else XML.
    The decrypted message is parsed the same way: XML through
    :func:`~kindbot.channels.wechat.xmlcodec.parse_fields` (tags as sent:
    ``ToUserName``, ``AgentID`` …), JSON (AI bots) into its top-level members
    with non-string values as compact JSON text. Raises
    :class:`WeChatSignatureError` (403), :class:`WeChatCryptoError`,
    :class:`WeChatXmlError` or :class:`BadRequestError` ``invalid_json`` (400).
    """
    ciphertext = _envelope_ciphertext(body)
    timestamp = _verify(config, query, ciphertext)
    check_timestamp(timestamp, now=now, max_clock_skew=config.max_clock_skew)
    plaintext, key = decrypt_with_keys(ciphertext, config.keys(), receive_id=config.receive_id)
    if _is_json(plaintext):
        return WeComCallback(_json_fields(plaintext), key)
    return WeComCallback(parse_fields(plaintext), key)


def seal_reply(
    xml: str,
    *,
    config: WeComConfig,
    key: bytes,
    timestamp: str,
    nonce: str,
    random16: bytes | None = None,
) -> str:
    """The encrypted XML envelope for a passive reply, sealed for ``corp_id``.

    Use the key from :class:`WeComCallback`; ``timestamp`` must be digits.
    """
    sealed = encrypt(xml.encode("utf-8"), key, config.corp_id, random16=random16)
    signature = sha1_signature(config.token, timestamp, nonce, sealed)
    return render_envelope(sealed, signature, timestamp, nonce)
