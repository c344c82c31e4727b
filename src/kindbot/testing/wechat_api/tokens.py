"""Access tokens of both API families, and how a presented token is judged.

Issuing: every token lives ``TOKEN_TTL`` (7,200 s). Tokens are issued into a
*slot* (``/cgi-bin/token`` and ``/cgi-bin/stable_token`` are separate slots of
an OA app; each corpsecret is a slot of a WeCom corp). Issuing into a slot
supersedes the slot's previous token, which then stays valid for
``GRACE_SECONDS`` (300 s) more, or until its own expiry if that is sooner.

Judging a presented token (``TokenBook.check``), first match wins:

==========================================================  =====  ======
case                                                        OA     WeCom
==========================================================  =====  ======
no ``access_token`` parameter, or an empty one              41001  41001
not shaped like a token this simulator issues               40014  40014
well-formed but never issued, or issued for the other API   40001  40014
past its 7,200 s lifetime                                   42001  42001
superseded > 300 s ago, or revoked by an appsecret reset    40001  40014
==========================================================  =====  ======
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass

from kindbot.testing.wechat_api import errors

TOKEN_TTL = 7200
GRACE_SECONDS = 300
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{128}")


class Family(enum.Enum):
    """Which API a token belongs to."""

    OA = "oa"  # api.weixin.qq.com
    WECOM = "wecom"  # qyapi.weixin.qq.com


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """A successful token response."""

    access_token: str
    expires_in: int


@dataclass(slots=True)
class IssuedToken:
    """One issued token; ``cutoff`` is set once it is superseded or revoked."""

    value: str
    family: Family
    owner: str  # appid or corpid
    slot: str
    expires_at: float
    cutoff: float | None = None

    def seconds_left(self, now: float) -> int:
        """Whole seconds until natural expiry (never negative)."""
        return max(0, int(self.expires_at - now + 1e-6))

    def usable(self, now: float) -> bool:
        """Whether an API call presenting this token at ``now`` is accepted."""
        return now < self.expires_at and (self.cutoff is None or now < self.cutoff)

    def grant(self, now: float) -> TokenGrant:
        return TokenGrant(access_token=self.value, expires_in=self.seconds_left(now))


class TokenBook:
    """Every token issued by one simulator, indexed by value and by slot."""

    def __init__(self) -> None:
        self._by_value: dict[str, IssuedToken] = {}
        self._current: dict[tuple[Family, str, str], IssuedToken] = {}

    def issue(self, family: Family, owner: str, slot: str, now: float) -> IssuedToken:
        """A new token for the slot; the previous one gets the 300 s grace."""
        previous = self._current.get((family, owner, slot))
        if previous is not None:
            ends = now + GRACE_SECONDS
            previous.cutoff = ends if previous.cutoff is None else min(previous.cutoff, ends)
        token = IssuedToken(
            value=secrets.token_urlsafe(96),
            family=family,
            owner=owner,
            slot=slot,
            expires_at=now + TOKEN_TTL,
        )
        self._by_value[token.value] = token
        self._current[(family, owner, slot)] = token
        return token

    def current(self, family: Family, owner: str, slot: str, now: float) -> IssuedToken | None:
        """The slot's latest token if it is still usable at ``now``."""
        token = self._current.get((family, owner, slot))
        return token if token is not None and token.usable(now) else None

    def revoke(self, family: Family, owner: str, now: float) -> None:
        """End every token of ``owner`` at ``now`` (its secret was reset)."""
        for token in self._by_value.values():
            if token.family is family and token.owner == owner and token.usable(now):
                token.cutoff = now

    def check(self, value: str | None, family: Family, now: float) -> IssuedToken:
        """The token behind ``value`` for an API of ``family``, or the error in the table."""
        if not value:
            raise errors.WeChatApiError(errors.ACCESS_TOKEN_MISSING)
        if _TOKEN_SHAPE.fullmatch(value) is None:
            raise errors.WeChatApiError(errors.INVALID_ACCESS_TOKEN)
        invalid = errors.INVALID_CREDENTIAL if family is Family.OA else errors.INVALID_ACCESS_TOKEN
        token = self._by_value.get(value)
        if token is None or token.family is not family:
            raise errors.WeChatApiError(invalid)
        if now >= token.expires_at:
            raise errors.WeChatApiError(errors.ACCESS_TOKEN_EXPIRED)
        if token.cutoff is not None and now >= token.cutoff:
            raise errors.WeChatApiError(invalid)
        return token
