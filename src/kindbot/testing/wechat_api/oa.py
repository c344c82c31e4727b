"""Official Account side: apps, their access tokens, and customer-service sends.

Token endpoints (``get_token`` / ``get_stable_token``) check, in order:
grant_type is ``client_credential`` (else 40002), appid given (41002), secret
given (41004), appid registered (40013), secret right (40125), today's token
calls below ``token_daily_quota`` (45009). Only calls answered with a token are
counted (both endpoints share the counter; the day is the Beijing day).

``/cgi-bin/token`` issues a new token on every call; the previous one stays
valid 300 s more. ``/cgi-bin/stable_token`` is a separate slot: it returns the
same token while more than 300 s of it remain (``expires_in`` = what is left),
then a new one (the old keeps its last minutes). ``force_refresh: true`` issues
a new one at once, the old one keeping a 300 s grace like a ``/cgi-bin/token``
refresh; at most ``force_refresh_daily_quota`` forced refreshes per day (45009).

Customer-service sends need an open window (see ``windows``): a user message
grants 5 messages within 48 h, a menu click/follow/scan 3 within 60 s; an
unfollow closes everything. No open window → 45015, window used up → 45047.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from kindbot.testing.wechat_api import errors
from kindbot.testing.wechat_api.quota import DailyCounter
from kindbot.testing.wechat_api.tokens import GRACE_SECONDS, Family, TokenBook, TokenGrant
from kindbot.testing.wechat_api.windows import Allowance, Consumed

CUSTOM_MSGTYPES = frozenset(
    {
        "text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle",
        "msgmenu", "wxcard", "miniprogrampage",
    }
)  # fmt: skip
MESSAGE_WINDOW = (5, 48 * 3600)
EVENT_WINDOW = (3, 60)
_TOKEN_SLOT = "token"
_STABLE_SLOT = "stable"


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A customer-service message the simulator accepted (and "delivered").

    ``payload_json`` is the whole request body, re-serialised canonically
    (sorted keys, no spaces, non-ASCII kept); ``at`` is the simulator clock.
    """

    touser: str
    msgtype: str
    payload_json: str
    at: float


@dataclass(slots=True)
class _App:
    secret: str
    allowances: dict[str, Allowance] = field(default_factory=dict)
    sent: list[SentMessage] = field(default_factory=list)


def canonical_json(body: Mapping[str, object]) -> str:
    """The stable text form of a request body, as stored in sent records."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class OfficialAccounts:
    """All registered OA apps of one simulator."""

    def __init__(
        self, tokens: TokenBook, *, token_daily_quota: int, force_refresh_daily_quota: int
    ) -> None:
        self._tokens = tokens
        self._apps: dict[str, _App] = {}
        self._token_calls = DailyCounter()
        self._force_refreshes = DailyCounter()
        self._token_quota = token_daily_quota
        self._force_quota = force_refresh_daily_quota

    def add_app(self, appid: str, secret: str, now: float) -> None:
        """Register an app; a new secret for a known app revokes its tokens."""
        app = self._apps.get(appid)
        if app is None:
            self._apps[appid] = _App(secret=secret)
        elif app.secret != secret:
            app.secret = secret
            self._tokens.revoke(Family.OA, appid, now)

    def _app(self, appid: str) -> _App:
        try:
            return self._apps[appid]
        except KeyError:
            raise errors.UnknownAccountError(f"unknown OA appid {appid!r}") from None

    def token_calls(self, appid: str, now: float) -> int:
        """Token responses given to ``appid`` today (both token endpoints)."""
        self._app(appid)
        return self._token_calls.get(appid, now)

    def _authenticate(
        self, grant_type: str | None, appid: str | None, secret: str | None, now: float
    ) -> str:
        if grant_type != "client_credential":
            raise errors.WeChatApiError(errors.INVALID_GRANT_TYPE)
        if not appid:
            raise errors.WeChatApiError(errors.APPID_MISSING)
        if not secret:
            raise errors.WeChatApiError(errors.SECRET_MISSING)
        app = self._apps.get(appid)
        if app is None:
            raise errors.WeChatApiError(errors.INVALID_APPID)
        if secret != app.secret:
            raise errors.WeChatApiError(errors.INVALID_APPSECRET)
        if self._token_calls.get(appid, now) >= self._token_quota:
            raise errors.WeChatApiError(errors.API_DAILY_QUOTA)
        return appid

    def get_token(
        self, grant_type: str | None, appid: str | None, secret: str | None, now: float
    ) -> TokenGrant:
        """``GET /cgi-bin/token``: always a new token."""
        appid = self._authenticate(grant_type, appid, secret, now)
        token = self._tokens.issue(Family.OA, appid, _TOKEN_SLOT, now)
        self._token_calls.add(appid, now)
        return token.grant(now)

    def get_stable_token(
        self,
        grant_type: str | None,
        appid: str | None,
        secret: str | None,
        *,
        force_refresh: bool,
        now: float,
    ) -> TokenGrant:
        """``POST /cgi-bin/stable_token``: the same token while > 300 s of it remain."""
        appid = self._authenticate(grant_type, appid, secret, now)
        current = self._tokens.current(Family.OA, appid, _STABLE_SLOT, now)
        if force_refresh:
            if self._force_refreshes.get(appid, now) >= self._force_quota:
                raise errors.WeChatApiError(errors.API_DAILY_QUOTA)
            self._force_refreshes.add(appid, now)
            current = None
        elif current is not None and current.seconds_left(now) <= GRACE_SECONDS:
            current = None
        if current is None:
            current = self._tokens.issue(Family.OA, appid, _STABLE_SLOT, now)
        self._token_calls.add(appid, now)
        return current.grant(now)

    def _allowance(self, appid: str, openid: str) -> Allowance:
        return self._app(appid).allowances.setdefault(openid, Allowance())

    def user_message(self, appid: str, openid: str, now: float) -> None:
        """The user sent a message: a fresh 5-message / 48 h window."""
        count, seconds = MESSAGE_WINDOW
        self._allowance(appid, openid).open("message", now, count, seconds)

    def user_event(self, appid: str, openid: str, now: float) -> None:
        """Menu click, follow or scan: a fresh 3-message / 60 s window."""
        count, seconds = EVENT_WINDOW
        self._allowance(appid, openid).open("event", now, count, seconds)

    def unfollow(self, appid: str, openid: str) -> None:
        """The user unfollowed: every window closes until they interact again."""
        self._allowance(appid, openid).clear()

    def send(self, appid: str, body: Mapping[str, object], now: float) -> SentMessage:
        """``POST /cgi-bin/message/custom/send`` for an already authorised ``appid``.

        Checks: ``touser`` a non-empty string (40003), ``msgtype`` known (40008),
        its payload an object (47001), text content non-empty (44004), then the
        window (45015 / 45047). A user the simulator never heard of has no window.
        """
        touser = body.get("touser")
        if not isinstance(touser, str) or not touser:
            raise errors.WeChatApiError(errors.INVALID_OPENID)
        msgtype = body.get("msgtype")
        if not isinstance(msgtype, str) or msgtype not in CUSTOM_MSGTYPES:
            raise errors.WeChatApiError(errors.INVALID_MSGTYPE)
        payload = body.get(msgtype)
        if not isinstance(payload, dict):
            raise errors.WeChatApiError(errors.DATA_FORMAT)
        if msgtype == "text":
            content = payload.get("content")
            if not isinstance(content, str) or not content:
                raise errors.WeChatApiError(errors.EMPTY_CONTENT)
        app = self._app(appid)
        allowance = app.allowances.get(touser)
        outcome = allowance.consume(now) if allowance is not None else Consumed.CLOSED
        if outcome is Consumed.CLOSED:
            raise errors.WeChatApiError(errors.OUT_OF_WINDOW)
        if outcome is Consumed.EXHAUSTED:
            raise errors.WeChatApiError(errors.OUT_OF_COUNT)
        record = SentMessage(
            touser=touser, msgtype=msgtype, payload_json=canonical_json(body), at=now
        )
        app.sent.append(record)
        return record

    def sent(self, appid: str) -> list[SentMessage]:
        """Messages accepted for ``appid``, oldest first (a copy)."""
        return list(self._app(appid).sent)
