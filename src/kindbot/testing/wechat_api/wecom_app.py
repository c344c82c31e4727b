"""WeCom app side: members, app messages (``message/send``) and new-customer welcomes.

``message/send`` (text and the other documented msgtypes) needs an integer
``agentid`` (40056) and a ``touser`` list (``a|b``, 40058 when missing);
unknown msgtype 40008, empty text 44004. Members never registered with
``add_member`` come back in ``invaliduser``; when no recipient is valid the
answer is 81013. A member gets at most 30 messages per minute and 1,000 per
hour from one app: excess messages are answered ``ok`` and silently dropped
(counted in ``dropped``), as WeCom does.

``externalcontact/send_welcome_msg``: ``customer_added`` issues a WelcomeCode
the way the ``add_external_contact`` event carries one. It is valid once,
within 20 s: a second use answers 41051 (documented: "externaluser has
started chatting"); an unknown or expired code answers 40058 (the simulator's
choice: WeCom documents no separate code). Empty text 44004.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from kindbot.testing.wechat_api import errors
from kindbot.testing.wechat_api.oa import canonical_json

APP_MSGTYPES = frozenset(
    {"text", "markdown", "image", "voice", "video", "file", "textcard", "news", "mpnews",
     "template_card"}
)  # fmt: skip
APP_LIMITS = ((60, 30), (3600, 1000))  # (seconds, messages) per member per app
WELCOME_TTL = 20


@dataclass(frozen=True, slots=True)
class AppSentMessage:
    """A ``message/send`` the simulator delivered to one member."""

    agentid: int
    touser: str
    msgtype: str
    payload_json: str
    at: float


@dataclass(frozen=True, slots=True)
class WelcomeSent:
    """A welcome message delivered with one WelcomeCode."""

    welcome_code: str
    userid: str
    external_userid: str
    content: str
    at: float


@dataclass(frozen=True, slots=True)
class AppSendAnswer:
    """The extra fields of a successful ``message/send`` answer."""

    invaliduser: str
    msgid: str


@dataclass(slots=True)
class _Code:
    corpid: str
    userid: str
    external_userid: str
    issued_at: float
    used: bool = False


@dataclass(slots=True)
class _AppCorp:
    members: set[str] = field(default_factory=set)
    sent: list[AppSentMessage] = field(default_factory=list)
    recent: dict[tuple[int, str], deque[float]] = field(default_factory=dict)
    welcomes: list[WelcomeSent] = field(default_factory=list)
    dropped: int = 0


def _text_content(body: Mapping[str, object]) -> str:
    text = body.get("text")
    content = text.get("content") if isinstance(text, dict) else None
    if not isinstance(content, str) or not content:
        raise errors.WeChatApiError(errors.EMPTY_CONTENT)
    return content


class WeComApps:
    """Members, app messages and welcome codes of every corp of one simulator."""

    def __init__(self) -> None:
        self._corps: dict[str, _AppCorp] = {}
        self._codes: dict[str, _Code] = {}

    def _corp(self, corpid: str) -> _AppCorp:
        return self._corps.setdefault(corpid, _AppCorp())

    def add_member(self, corpid: str, userid: str) -> None:
        """Register a member (the caller checks that the corp exists)."""
        self._corp(corpid).members.add(userid)

    def send(self, corpid: str, body: Mapping[str, object], now: float) -> AppSendAnswer:
        """``POST /cgi-bin/message/send`` for an authorised ``corpid``."""
        corp = self._corp(corpid)
        agentid, touser, msgtype = body.get("agentid"), body.get("touser"), body.get("msgtype")
        if not isinstance(agentid, int) or isinstance(agentid, bool) or agentid <= 0:
            raise errors.WeChatApiError(errors.INVALID_AGENTID)
        if not isinstance(touser, str) or not touser:
            raise errors.WeChatApiError(errors.INVALID_PARAMETER, "invalid touser")
        if not isinstance(msgtype, str) or msgtype not in APP_MSGTYPES:
            raise errors.WeChatApiError(errors.INVALID_MSGTYPE)
        if msgtype == "text":
            _text_content(body)
        elif not isinstance(body.get(msgtype), dict):
            raise errors.WeChatApiError(errors.INVALID_PARAMETER, f"invalid {msgtype}")
        users = [u for u in touser.split("|") if u]
        valid = [u for u in users if u in corp.members]
        invalid = [u for u in users if u not in corp.members]
        if not valid:
            raise errors.WeChatApiError(errors.USER_ALL_INVALID, "invalid user")
        for userid in valid:
            if self._within_limits(corp, agentid, userid, now):
                corp.sent.append(
                    AppSentMessage(agentid, userid, msgtype, canonical_json(body), now)
                )
            else:
                corp.dropped += 1
        return AppSendAnswer(invaliduser="|".join(invalid), msgid=secrets.token_hex(16))

    @staticmethod
    def _within_limits(corp: _AppCorp, agentid: int, userid: str, now: float) -> bool:
        times = corp.recent.setdefault((agentid, userid), deque())
        while times and times[0] <= now - APP_LIMITS[-1][0]:
            times.popleft()
        for seconds, limit in APP_LIMITS:
            if sum(1 for t in times if t > now - seconds) >= limit:
                return False
        times.append(now)
        return True

    def customer_added(self, corpid: str, userid: str, external_userid: str, now: float) -> str:
        """A customer added ``userid``: a fresh WelcomeCode (valid once, for 20 s)."""
        code = secrets.token_urlsafe(32)
        self._codes[code] = _Code(corpid, userid, external_userid, now)
        self._corp(corpid)
        return code

    def send_welcome(self, corpid: str, body: Mapping[str, object], now: float) -> None:
        """``POST /cgi-bin/externalcontact/send_welcome_msg`` for an authorised ``corpid``."""
        code_text = body.get("welcome_code")
        code = self._codes.get(code_text) if isinstance(code_text, str) else None
        if code is None or code.corpid != corpid or now > code.issued_at + WELCOME_TTL:
            raise errors.WeChatApiError(errors.INVALID_PARAMETER, "invalid welcome_code")
        if code.used:
            raise errors.WeChatApiError(errors.WELCOME_CODE_USED)
        content = _text_content(body)
        code.used = True
        self._corp(corpid).welcomes.append(
            WelcomeSent(str(code_text), code.userid, code.external_userid, content, now)
        )

    def sent(self, corpid: str) -> list[AppSentMessage]:
        """App messages delivered for ``corpid``, oldest first (a copy)."""
        return list(self._corp(corpid).sent)

    def welcomes(self, corpid: str) -> list[WelcomeSent]:
        """Welcome messages delivered for ``corpid``, oldest first (a copy)."""
        return list(self._corp(corpid).welcomes)

    def dropped(self, corpid: str) -> int:
        """App messages answered ``ok`` but dropped for exceeding a member's limits."""
        return self._corp(corpid).dropped
