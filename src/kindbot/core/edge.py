"""Where text from the outside world becomes Python values: checked, bounded, or refused.

Contract module: imports nothing of ours but :mod:`kindbot.core.errors`, so every
layer (channels, dialogue's file readers, web) uses the same checks.

Every public parser (webhook JSON, web-chat POST bodies and WebSocket frames,
WeCom JSON envelopes, identifiers read from WeChat XML) goes through these
functions, so that nothing a stranger sends can reach the pipeline or the
database in a shape they cannot store:

- :func:`load_json` parses JSON with a nesting bound (checked before parsing,
  so no recursion is ever attempted) and refuses any string (key or value)
  that is not storable text (:func:`check_text`);
- :func:`check_text` refuses lone UTF-16 surrogates (``"\\ud800"`` is valid
  JSON but cannot be encoded as UTF-8) and NUL characters (PostgreSQL text
  cannot hold them) — code ``invalid_text``;
- :func:`check_identifier` bounds an identifier's length — code
  ``identifier_too_long`` — so that an id never has to be cut to fit a column;
- :func:`scoped_key` builds an unambiguous idempotency key from its parts.

All failures are :class:`~kindbot.core.errors.BadRequestError` (HTTP 400) with a code.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

from kindbot.core.errors import BadRequestError, NotFoundError

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays/objects accepted in a JSON body (ours are 1–3 deep)."""

IDENTIFIER_LIMIT = 128
"""Longest platform identifier (OpenID, UserID, MsgId, nonce …) accepted; real ones are < 64."""

_INVALID_TEXT = re.compile("[\x00\ud800-\udfff]")
# A string literal up to its closing quote or the end of the text (possessive, so a
# scan is linear even for unterminated strings and trailing backslashes).
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.|\\\Z)*+(?:"|\Z)', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def check_text(value: str, *, field: str) -> str:
    """``value`` unchanged, or ``invalid_text`` when it holds a lone surrogate or NUL."""
    found = _INVALID_TEXT.search(value)
    if found is not None:
        raise BadRequestError(
            f"field '{field}' contains a character that is not valid text "
            f"(U+{ord(found.group()):04X} at {found.start()})",
            code="invalid_text",
        )
    return value


def check_identifier(value: str, *, field: str, limit: int = IDENTIFIER_LIMIT) -> str:
    """``value`` unchanged when it is valid text of at most ``limit`` characters.

    Raises ``identifier_too_long`` or ``invalid_text`` (both 400).
    """
    if len(value) > limit:
        raise BadRequestError(
            f"field '{field}' is {len(value)} characters long; at most {limit} are accepted",
            code="identifier_too_long",
        )
    return check_text(value, field=field)


PUBLIC_ID_LIMIT = 140
"""Longest channel public id (``tenant.local``) that can exist (its column's length)."""


def check_public_id(value: str) -> str:
    """``value`` when it could name a channel; else 404 ``unknown_channel`` without a lookup.

    An id that is too long or holds text no database can store (NUL, lone
    surrogates) names nothing — refusing it here keeps it away from the query.
    """
    if len(value) > PUBLIC_ID_LIMIT or _INVALID_TEXT.search(value):
        raise NotFoundError(f"channel {value[:40]!r} does not exist", code="unknown_channel")
    return value


def _nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text`` (strings' contents ignored)."""
    steps = (_DEPTH_STEP[b] for b in _BRACKETS.findall(_JSON_STRING.sub("", text)))
    return max(accumulate(steps, initial=0))


def _check_strings(value: object) -> None:
    """Run :func:`check_text` over every key and string in a parsed JSON value (iteratively)."""
    pending: list[tuple[str, object]] = [("$", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            check_text(item, field=path)
        elif isinstance(item, dict):
            for key, child in item.items():
                check_text(key, field=f"{path}.<key>")
                pending.append((f"{path}.{key}", child))
        elif isinstance(item, list):
            pending.extend((f"{path}[{i}]", child) for i, child in enumerate(item))


def load_json(raw: bytes | str, *, what: str = "body") -> object:
    """Parse untrusted JSON; every string in the result is storable text.

    Raises ``invalid_json`` (not UTF-8, malformed, or a number Python refuses
    to convert), ``json_too_deep`` (nesting over :data:`MAX_JSON_DEPTH`,
    detected before parsing) and ``invalid_text`` (see :func:`check_text`;
    the message names the JSON path).
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise BadRequestError(f"{what} is not UTF-8: {exc}", code="invalid_json") from exc
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and (
        _nesting_depth(text) > MAX_JSON_DEPTH
    ):
        raise BadRequestError(
            f"{what} nests deeper than {MAX_JSON_DEPTH} levels", code="json_too_deep"
        )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, huge integers
        raise BadRequestError(f"{what} is not valid JSON: {exc}", code="invalid_json") from exc
    _check_strings(data)
    return data


def load_json_object(raw: bytes | str, *, what: str = "body") -> dict[str, object]:
    """:func:`load_json` of a JSON object (``invalid_json`` for any other value)."""
    data = load_json(raw, what=what)
    if not isinstance(data, dict):
        raise BadRequestError(f"{what} must be a JSON object", code="invalid_json")
    return data


def scoped_key(prefix: str, *parts: str) -> str:
    """``prefix:part1:part2…`` with ``%`` and ``:`` escaped in each part.

    Distinct part tuples always give distinct keys (a sender ``a:b`` with id
    ``c`` never collides with sender ``a`` and id ``b:c``); ordinary ids read
    unchanged. Storage keeps a fixed-length digest of the key, so its length
    does not matter.
    """
    escaped = (p.replace("%", "%25").replace(":", "%3A") for p in parts)
    return ":".join((prefix, *escaped))
