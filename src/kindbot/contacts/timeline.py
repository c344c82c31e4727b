"""A contact's timeline page request and cursors (opaque, URL-safe: the last item's
time, kind and id)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from kindbot.contacts.search import InvalidFilterError
from kindbot.core.records.directory import TimelineCursor, TimelineKind

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def check_limit(limit: int | None) -> int:
    """The page size asked for (default :data:`DEFAULT_LIMIT`), or 422 ``invalid_filter``."""
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidFilterError(f"limit: between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def encode_cursor(cursor: TimelineCursor) -> str:
    """The opaque text of a timeline cursor."""
    raw = json.dumps([cursor.at.isoformat(), cursor.kind.value, cursor.item_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> TimelineCursor:
    """The cursor ``text`` encodes, or 422 ``invalid_filter``."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        at, kind, item_id = json.loads(raw)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or not isinstance(item_id, str):
            raise ValueError("not a cursor")
        return TimelineCursor(moment, TimelineKind(kind), item_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidFilterError("cursor: not a cursor of this timeline") from None
