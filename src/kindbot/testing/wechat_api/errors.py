"""Error codes the simulator answers with, and the exceptions that carry them.

The API endpoints answer errors the way WeChat does: HTTP 200 with
``{"errcode": N, "errmsg": "..."}``. Clients must branch on ``errcode`` only;
``errmsg`` carries a random request id like the real service's.
"""

from __future__ import annotations

OK = 0
INVALID_CREDENTIAL = 40001  # OA: token revoked/not latest; WeCom gettoken: bad corpsecret
INVALID_GRANT_TYPE = 40002
INVALID_OPENID = 40003
INVALID_MSGTYPE = 40008
INVALID_APPID = 40013  # also "invalid corpid" on WeCom
INVALID_ACCESS_TOKEN = 40014
INVALID_AGENTID = 40056
INVALID_PARAMETER = 40058  # WeCom: a parameter has a wrong type or is out of range
INVALID_APPSECRET = 40125
ACCESS_TOKEN_MISSING = 41001
WELCOME_CODE_USED = 41051
APPID_MISSING = 41002
SECRET_MISSING = 41004
ACCESS_TOKEN_EXPIRED = 42001
EMPTY_CONTENT = 44004
API_DAILY_QUOTA = 45009
OUT_OF_WINDOW = 45015
OUT_OF_COUNT = 45047
DATA_FORMAT = 47001
KF_COUNT_LIMIT = 95001
KF_UNKNOWN_ACCOUNT = 95004
KF_SESSION_INVALID = 95018
USER_ALL_INVALID = 81013

MESSAGES: dict[int, str] = {
    INVALID_CREDENTIAL: "invalid credential, access_token is invalid or not latest",
    INVALID_GRANT_TYPE: "invalid grant_type",
    INVALID_OPENID: "invalid openid",
    INVALID_MSGTYPE: "invalid message type",
    INVALID_APPID: "invalid appid",
    INVALID_ACCESS_TOKEN: "invalid access_token",
    INVALID_AGENTID: "invalid agentid",
    INVALID_PARAMETER: "invalid parameter",
    INVALID_APPSECRET: "invalid appsecret",
    ACCESS_TOKEN_MISSING: "access_token missing",
    APPID_MISSING: "appid missing",
    SECRET_MISSING: "appsecret missing",
    ACCESS_TOKEN_EXPIRED: "access_token expired",
    EMPTY_CONTENT: "empty content",
    API_DAILY_QUOTA: "reach max api daily quota limit",
    OUT_OF_WINDOW: "response out of time limit or subscription is canceled",
    OUT_OF_COUNT: "out of response count limit",
    DATA_FORMAT: "data format error",
    KF_COUNT_LIMIT: "send msg count exceed limit",
    KF_UNKNOWN_ACCOUNT: "open_kfid not exist",
    KF_SESSION_INVALID: "send msg session status invalid",
    USER_ALL_INVALID: "user & party & tag all invalid",
    WELCOME_CODE_USED: "externaluser has started chatting",
}


class WeChatApiError(Exception):
    """An API call refused with ``errcode``; the HTTP layer renders it as JSON."""

    def __init__(self, errcode: int, errmsg: str | None = None) -> None:
        self.errcode = errcode
        self.errmsg = errmsg if errmsg is not None else MESSAGES.get(errcode, "error")
        super().__init__(f"{self.errcode}: {self.errmsg}")


class UnknownAccountError(LookupError):
    """A control operation named an app, corp or kf account never registered."""
