"""The Official Account callback protocol as pure functions.

``GET`` (URL verification): :func:`verify_url`. ``POST`` (message push):
:func:`open_callback` verifies, decrypts (safe and compatible modes) and
parses; the passive reply is rendered with ``render_*_reply`` and, when the
request was encrypted, sealed with :func:`seal_reply` using the key that
opened it. Order of checks on an encrypted POST: envelope parse (size-limited,
DTD-free) → ``msg_signature`` over the ciphertext → timestamp → decrypt →
inner parse; nothing is decrypted before the signature matched.

Plain-mode ``signature`` covers only (token, timestamp, nonce), not the body:
the timestamp window and the caller's nonce-replay check are then the only
protection against a replayed signature with another body. Prefer safe mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

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
    WeChatXmlError,
    parse_fields,
    render_element,
    render_envelope,
)
from kindbot.channels.wechat_oa.messages import OAMessage, parse_message
from kindbot.core.errors import BadRequestError

Mode = Literal["plain", "compatible", "safe"]
MAX_ARTICLES = 8
_MODES = ("plain", "compatible", "safe")


@dataclass(frozen=True, slots=True)
class OAConfig:
    """An Official Account's callback settings.

    ``mode`` is the account's 消息加解密方式: ``plain`` (明文), ``compatible``
    (兼容) or ``safe`` (安全). Compatible and safe need ``encoding_aes_key``;
    ``previous_encoding_aes_key`` is still accepted after a rotation.
    ``max_clock_skew`` (seconds) bounds |now − timestamp|; 0 disables the check.
    Construction validates the keys (:class:`WeChatCryptoError` ``bad_aes_key``)
    and the mode (:class:`BadRequestError` ``invalid_config``).
    """

    token: str
    app_id: str
    encoding_aes_key: str | None
    previous_encoding_aes_key: str | None
    mode: Mode
    max_clock_skew: int = 300

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise BadRequestError(f"unknown mode {self.mode!r}", code="invalid_config")
        if self.mode != "plain" and not self.encoding_aes_key:
            raise BadRequestError(
                f"mode {self.mode!r} needs an EncodingAESKey", code="invalid_config"
            )
        if not self.token:
            raise BadRequestError("token must not be empty", code="invalid_config")
        self.keys()

    def keys(self) -> tuple[bytes, ...]:
        """The AES keys to try, current first."""
        raw = (self.encoding_aes_key, self.previous_encoding_aes_key)
        return tuple(decode_aes_key(k) for k in raw if k)


@dataclass(frozen=True, slots=True)
class OpenedCallback:
    """A verified, decrypted, parsed POST.

    ``key`` is the AES key that decrypted it (``None`` when plaintext): seal
    the reply with it. ``nonce`` and ``timestamp`` are the query's; replay
    detection on ``nonce`` needs shared storage and is left to the caller.
    """

    message: OAMessage
    encrypted: bool
    key: bytes | None
    nonce: str
    timestamp: str


@dataclass(frozen=True, slots=True)
class Article:
    """One item of a news (图文) reply."""

    title: str
    description: str
    pic_url: str
    url: str


def _param(query: Mapping[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        raise WeChatSignatureError(f"query parameter {name} is missing", code="missing_signature")
    return value


def _check(expected: str, *parts: str, name: str) -> None:
    if not signature_matches(expected, *parts):
        raise WeChatSignatureError(f"{name} does not match", code="bad_signature")


def verify_url(config: OAConfig, query: Mapping[str, str]) -> str:
    """Answer the GET verification: the ``echostr`` to return, unchanged.

    The GET is plaintext in every mode. Raises :class:`WeChatSignatureError`
    (``missing_signature`` / ``bad_signature``) or :class:`BadRequestError`
    ``missing_field`` when ``echostr`` is absent.
    """
    signature = _param(query, "signature")
    timestamp, nonce = _param(query, "timestamp"), _param(query, "nonce")
    _check(signature, config.token, timestamp, nonce, name="signature")
    echostr = query.get("echostr")
    if echostr is None:
        raise BadRequestError("query parameter echostr is missing", code="missing_field")
    return echostr


def open_callback(
    config: OAConfig, query: Mapping[str, str], body: bytes, *, now: int
) -> OpenedCallback:
    """Verify, decrypt if needed, and parse one POST.

    ``encrypt_type=aes``: ``msg_signature`` over (token, timestamp, nonce,
    Encrypt) is required (``signature`` alone is never enough), the
    ciphertext is opened with the current or previous key for ``app_id``.
    Otherwise (absent or ``raw``): ``signature`` over (token, timestamp,
    nonce) and the body is the message. Safe mode refuses plaintext (403
    ``encryption_required``); without a key, encrypted posts are refused (400
    ``encryption_not_configured``). Other ``encrypt_type`` values: 400
    ``unsupported_encrypt_type``. Raises the channel's KindbotError subclasses.
    """
    timestamp, nonce = _param(query, "timestamp"), check_nonce(_param(query, "nonce"))
    encrypt_type = query.get("encrypt_type", "raw") or "raw"
    if encrypt_type == "aes":
        return _open_encrypted(config, query, body, now=now, timestamp=timestamp, nonce=nonce)
    if encrypt_type != "raw":
        raise BadRequestError(
            f"unsupported encrypt_type {encrypt_type!r}", code="unsupported_encrypt_type"
        )
    if config.mode == "safe":
        raise WeChatSignatureError(
            "this account is in safe mode: plaintext posts are refused",
            code="encryption_required",
        )
    _check(_param(query, "signature"), config.token, timestamp, nonce, name="signature")
    check_timestamp(timestamp, now=now, max_clock_skew=config.max_clock_skew)
    message = parse_message(parse_fields(body))
    return OpenedCallback(message, encrypted=False, key=None, nonce=nonce, timestamp=timestamp)


def _open_encrypted(
    config: OAConfig,
    query: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    timestamp: str,
    nonce: str,
) -> OpenedCallback:
    keys = config.keys()
    if not keys:
        raise WeChatCryptoError(
            "an encrypted post arrived but no EncodingAESKey is configured",
            code="encryption_not_configured",
        )
    msg_signature = _param(query, "msg_signature")
    ciphertext = parse_fields(body).get("Encrypt")
    if not ciphertext:
        raise WeChatXmlError("required field Encrypt is missing", code="missing_field")
    _check(msg_signature, config.token, timestamp, nonce, ciphertext, name="msg_signature")
    check_timestamp(timestamp, now=now, max_clock_skew=config.max_clock_skew)
    plaintext, key = decrypt_with_keys(ciphertext, keys, receive_id=config.app_id)
    message = parse_message(parse_fields(plaintext))
    return OpenedCallback(message, encrypted=True, key=key, nonce=nonce, timestamp=timestamp)


def _head(to_user: str, from_user: str, create_time: int, msg_type: str) -> str:
    return (
        render_element("ToUserName", to_user)
        + render_element("FromUserName", from_user)
        + render_element("CreateTime", create_time)
        + render_element("MsgType", msg_type)
    )


def render_text_reply(to_user: str, from_user: str, content: str, create_time: int) -> str:
    """A passive text reply. ``to_user`` is the user's OpenID, ``from_user`` the gh_ id."""
    head = _head(to_user, from_user, create_time, "text")
    return f"<xml>{head}{render_element('Content', content)}</xml>"


def render_image_reply(to_user: str, from_user: str, media_id: str, create_time: int) -> str:
    """A passive image reply with an uploaded ``media_id``."""
    image = f"<Image>{render_element('MediaId', media_id)}</Image>"
    return f"<xml>{_head(to_user, from_user, create_time, 'image')}{image}</xml>"


def render_news_reply(
    to_user: str, from_user: str, articles: Sequence[Article], create_time: int
) -> str:
    """A passive news reply with 1 to 8 articles (ValueError otherwise)."""
    if not 1 <= len(articles) <= MAX_ARTICLES:
        raise ValueError(f"a news reply needs 1 to {MAX_ARTICLES} articles, got {len(articles)}")
    items = "".join(
        "<item>"
        + render_element("Title", a.title)
        + render_element("Description", a.description)
        + render_element("PicUrl", a.pic_url)
        + render_element("Url", a.url)
        + "</item>"
        for a in articles
    )
    count = render_element("ArticleCount", len(articles))
    head = _head(to_user, from_user, create_time, "news")
    return f"<xml>{head}{count}<Articles>{items}</Articles></xml>"


def seal_reply(
    xml: str,
    *,
    config: OAConfig,
    key: bytes,
    timestamp: str,
    nonce: str,
    random16: bytes | None = None,
) -> str:
    """The encrypted envelope for a passive reply (use :attr:`OpenedCallback.key`).

    ``MsgSignature`` = sha1 over (token, timestamp, nonce, Encrypt);
    ``timestamp`` must be decimal digits (ValueError otherwise).
    """
    sealed = encrypt(xml.encode("utf-8"), key, config.app_id, random16=random16)
    signature = sha1_signature(config.token, timestamp, nonce, sealed)
    return render_envelope(sealed, signature, timestamp, nonce)
