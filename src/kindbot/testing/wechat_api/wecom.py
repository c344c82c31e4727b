"""WeCom side: corps, ``gettoken``, and 微信客服 ``kf/sync_msg`` / ``kf/send_msg``.

``gettoken`` checks corpid given (41002), corpsecret given (41004), corp known
(40013), secret registered for it (40001, WeCom's "invalid secret"); it returns
the same token per (corp, secret) while it is valid, with ``expires_in`` = the
seconds left.

``sync_msg`` pages, oldest first, through the customer messages queued with
``customer_says`` (one queue per corp; ``open_kfid`` narrows it to one kf
account). Cursors are opaque strings tied to the queue they came from. Errors:
unknown open_kfid 95004; ``limit`` not an integer in 1..1000, or an unknown or
foreign cursor, 40058. The callback ``token`` is accepted and not checked.

``send_msg`` needs an open window: a customer message grants 5 messages within
48 h to that customer on that kf account. Errors: missing touser/open_kfid or a
malformed ``msgid`` 40058, unknown open_kfid 95004, unknown msgtype 40008, empty
text 44004, no open window 95018, window used up 95001. A client ``msgid``
that was already delivered returns the same answer without a second delivery
(and without using the window); refused sends are not remembered.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from kindbot.testing.wechat_api import errors
from kindbot.testing.wechat_api.oa import canonical_json
from kindbot.testing.wechat_api.tokens import Family, TokenBook, TokenGrant
from kindbot.testing.wechat_api.windows import Allowance, Consumed

KF_MSGTYPES = frozenset(
    {"text", "image", "voice", "video", "file", "link", "miniprogram", "msgmenu", "location",
     "business_card", "ca_link"}
)  # fmt: skip
KF_WINDOW = (5, 48 * 3600)
MAX_SYNC_LIMIT = 1000
ORIGIN_CUSTOMER = 3
_CLIENT_MSGID = re.compile(r"[0-9A-Za-z_-]{1,32}")


@dataclass(frozen=True, slots=True)
class KfInbound:
    """A customer message waiting in the sync queue."""

    msgid: str
    open_kfid: str
    external_userid: str
    send_time: int
    content: str


@dataclass(frozen=True, slots=True)
class KfSentMessage:
    """A ``kf/send_msg`` the simulator accepted; ``payload_json`` is the canonical body."""

    open_kfid: str
    touser: str
    msgid: str
    msgtype: str
    payload_json: str
    at: float


@dataclass(frozen=True, slots=True)
class SyncPage:
    """One ``sync_msg`` answer."""

    next_cursor: str
    has_more: bool
    messages: tuple[KfInbound, ...]


@dataclass(slots=True)
class _Corp:
    secrets: set[str] = field(default_factory=set)
    kf_accounts: set[str] = field(default_factory=set)
    inbox: list[KfInbound] = field(default_factory=list)
    allowances: dict[tuple[str, str], Allowance] = field(default_factory=dict)
    sent: list[KfSentMessage] = field(default_factory=list)
    delivered: dict[str, str] = field(default_factory=dict)
    cursors: dict[str, tuple[str, int]] = field(default_factory=dict)
    cursor_ids: dict[tuple[str, int], str] = field(default_factory=dict)
    gettoken_calls: int = 0

    def cursor_for(self, scope: str, offset: int) -> str:
        key = (scope, offset)
        if key not in self.cursor_ids:
            cursor = secrets.token_urlsafe(16)
            self.cursor_ids[key] = cursor
            self.cursors[cursor] = key
        return self.cursor_ids[key]


class WeComCorps:
    """All registered WeCom corps of one simulator."""

    def __init__(self, tokens: TokenBook) -> None:
        self._tokens = tokens
        self._corps: dict[str, _Corp] = {}

    def add_corp(self, corpid: str, corpsecret: str) -> None:
        """Register a corp, or one more secret (another app) of a known corp."""
        self._corps.setdefault(corpid, _Corp()).secrets.add(corpsecret)

    def _corp(self, corpid: str) -> _Corp:
        try:
            return self._corps[corpid]
        except KeyError:
            raise errors.UnknownAccountError(f"unknown WeCom corpid {corpid!r}") from None

    def require(self, corpid: str) -> None:
        """Raise ``UnknownAccountError`` unless ``corpid`` was added."""
        self._corp(corpid)

    def add_kf_account(self, corpid: str, open_kfid: str) -> None:
        """Register a 微信客服 account of a known corp."""
        self._corp(corpid).kf_accounts.add(open_kfid)

    def gettoken_calls(self, corpid: str) -> int:
        """Successful ``gettoken`` answers given to ``corpid`` so far (all days)."""
        return self._corp(corpid).gettoken_calls

    def gettoken(self, corpid: str | None, corpsecret: str | None, now: float) -> TokenGrant:
        """``GET /cgi-bin/gettoken``: the same token per (corp, secret) while valid."""
        if not corpid:
            raise errors.WeChatApiError(errors.APPID_MISSING, "corpid missing")
        if not corpsecret:
            raise errors.WeChatApiError(errors.SECRET_MISSING, "corpsecret missing")
        corp = self._corps.get(corpid)
        if corp is None:
            raise errors.WeChatApiError(errors.INVALID_APPID, "invalid corpid")
        if corpsecret not in corp.secrets:
            raise errors.WeChatApiError(errors.INVALID_CREDENTIAL, "invalid credential")
        token = self._tokens.current(Family.WECOM, corpid, corpsecret, now)
        if token is None:
            token = self._tokens.issue(Family.WECOM, corpid, corpsecret, now)
        corp.gettoken_calls += 1
        return token.grant(now)

    def customer_says(
        self, corpid: str, open_kfid: str, external_userid: str, text: str, now: float
    ) -> str:
        """Queue a customer text for ``sync_msg`` and open a fresh window; returns its msgid."""
        corp = self._corp(corpid)
        if open_kfid not in corp.kf_accounts:
            raise errors.UnknownAccountError(f"unknown open_kfid {open_kfid!r} in {corpid!r}")
        message = KfInbound(
            msgid=secrets.token_hex(16),
            open_kfid=open_kfid,
            external_userid=external_userid,
            send_time=int(now),
            content=text,
        )
        corp.inbox.append(message)
        count, seconds = KF_WINDOW
        allowance = corp.allowances.setdefault((open_kfid, external_userid), Allowance())
        allowance.open("message", now, count, seconds)
        return message.msgid

    def sync(
        self, corpid: str, *, cursor: str | None, limit: int, open_kfid: str | None
    ) -> SyncPage:
        """``POST /cgi-bin/kf/sync_msg`` for an already authorised ``corpid``."""
        corp = self._corp(corpid)
        if not 1 <= limit <= MAX_SYNC_LIMIT:
            raise errors.WeChatApiError(errors.INVALID_PARAMETER, "invalid limit")
        if open_kfid is not None and open_kfid not in corp.kf_accounts:
            raise errors.WeChatApiError(errors.KF_UNKNOWN_ACCOUNT)
        scope = open_kfid or ""
        offset = 0
        if cursor:
            found = corp.cursors.get(cursor)
            if found is None or found[0] != scope:
                raise errors.WeChatApiError(errors.INVALID_PARAMETER, "invalid cursor")
            offset = found[1]
        queue = [m for m in corp.inbox if not open_kfid or m.open_kfid == open_kfid]
        page = tuple(queue[offset : offset + limit])
        end = offset + len(page)
        return SyncPage(
            next_cursor=corp.cursor_for(scope, end), has_more=end < len(queue), messages=page
        )

    def send(self, corpid: str, body: Mapping[str, object], now: float) -> str:
        """``POST /cgi-bin/kf/send_msg`` for an already authorised ``corpid``; the msgid."""
        corp = self._corp(corpid)
        touser, open_kfid, msgid = body.get("touser"), body.get("open_kfid"), body.get("msgid")
        if not isinstance(touser, str) or not touser:
            raise errors.WeChatApiError(errors.INVALID_PARAMETER, "invalid touser")
        if not isinstance(open_kfid, str) or not open_kfid:
            raise errors.WeChatApiError(errors.INVALID_PARAMETER, "invalid open_kfid")
        if msgid is not None and (
            not isinstance(msgid, str) or _CLIENT_MSGID.fullmatch(msgid) is None
        ):
            raise errors.WeChatApiError(errors.INVALID_PARAMETER, "invalid msgid")
        if open_kfid not in corp.kf_accounts:
            raise errors.WeChatApiError(errors.KF_UNKNOWN_ACCOUNT)
        msgtype = body.get("msgtype")
        if not isinstance(msgtype, str) or msgtype not in KF_MSGTYPES:
            raise errors.WeChatApiError(errors.INVALID_MSGTYPE)
        payload = body.get(msgtype)
        if not isinstance(payload, dict):
            raise errors.WeChatApiError(errors.INVALID_PARAMETER, f"invalid {msgtype}")
        content = payload.get("content")
        if msgtype == "text" and not (isinstance(content, str) and content):
            raise errors.WeChatApiError(errors.EMPTY_CONTENT)
        if msgid is not None and msgid in corp.delivered:
            return corp.delivered[msgid]
        allowance = corp.allowances.get((open_kfid, touser))
        outcome = allowance.consume(now) if allowance is not None else Consumed.CLOSED
        if outcome is Consumed.CLOSED:
            raise errors.WeChatApiError(errors.KF_SESSION_INVALID)
        if outcome is Consumed.EXHAUSTED:
            raise errors.WeChatApiError(errors.KF_COUNT_LIMIT)
        final_id = msgid if msgid is not None else secrets.token_hex(16)
        corp.sent.append(
            KfSentMessage(open_kfid, touser, final_id, msgtype, canonical_json(body), now)
        )
        if msgid is not None:
            corp.delivered[msgid] = final_id
        return final_id

    def sent(self, corpid: str) -> list[KfSentMessage]:
        """Messages accepted for ``corpid``, oldest first (a copy)."""
        return list(self._corp(corpid).sent)
