"""``WeChatSimulator``: the state and controls of one simulated WeChat + WeCom."""

from __future__ import annotations

import time
from collections.abc import Callable

from kindbot.testing.wechat_api.app import create_app
from kindbot.testing.wechat_api.faults import Fault, FaultPlan, Stalls
from kindbot.testing.wechat_api.oa import OfficialAccounts, SentMessage
from kindbot.testing.wechat_api.state import SimulatorState
from kindbot.testing.wechat_api.tokens import TokenBook
from kindbot.testing.wechat_api.wecom import KfSentMessage, WeComCorps
from kindbot.testing.wechat_api.wecom_app import AppSentMessage, WeComApps, WelcomeSent


class WeChatSimulator:
    """A local stand-in for api.weixin.qq.com and qyapi.weixin.qq.com.

    ``clock`` returns unix seconds and is read on every API request and control
    call, so tests move time by changing what it returns (no sleeping).
    ``app`` is the ASGI app; point a client's ``api_base`` at wherever it is
    served (or use ``httpx.ASGITransport(app=sim.app)``). All state is in this
    object; two simulators share nothing. Control methods raise
    ``UnknownAccountError`` for an app, corp or kf account never added.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        *,
        timeout_seconds: float = 30.0,
        token_daily_quota: int = 2000,
        force_refresh_daily_quota: int = 20,
    ) -> None:
        tokens = TokenBook()
        self.state = SimulatorState(
            clock=clock,
            tokens=tokens,
            oa=OfficialAccounts(
                tokens,
                token_daily_quota=token_daily_quota,
                force_refresh_daily_quota=force_refresh_daily_quota,
            ),
            wecom=WeComCorps(tokens),
            wecom_apps=WeComApps(),
            faults=FaultPlan(),
            stalls=Stalls(timeout_seconds),
        )
        self.app = create_app(self)

    # Official Account ---------------------------------------------------------------

    def add_oa_app(self, appid: str, secret: str) -> None:
        """Register an OA app; re-adding it with another secret revokes its tokens."""
        self.state.oa.add_app(appid, secret, self.state.clock())

    def user_message(self, appid: str, openid: str) -> None:
        """``openid`` sent the app a message: 5 customer-service messages within 48 h."""
        self.state.oa.user_message(appid, openid, self.state.clock())

    def user_event(self, appid: str, openid: str) -> None:
        """``openid`` clicked a menu, followed or scanned: 3 messages within 60 s."""
        self.state.oa.user_event(appid, openid, self.state.clock())

    def unfollow(self, appid: str, openid: str) -> None:
        """``openid`` unfollowed: sends fail with 45015 until they interact again."""
        self.state.oa.unfollow(appid, openid)

    def sent(self, appid: str) -> list[SentMessage]:
        """Customer-service messages delivered for ``appid``, oldest first."""
        return self.state.oa.sent(appid)

    def token_calls(self, appid: str) -> int:
        """Tokens handed to ``appid`` today (``token`` + ``stable_token``, Beijing day)."""
        return self.state.oa.token_calls(appid, self.state.clock())

    # WeCom / 微信客服 ---------------------------------------------------------------

    def add_wecom_corp(self, corpid: str, corpsecret: str) -> None:
        """Register a corp, or another secret of it (tokens are per (corp, secret))."""
        self.state.wecom.add_corp(corpid, corpsecret)

    def add_kf_account(self, corpid: str, open_kfid: str) -> None:
        """Register a 微信客服 account of ``corpid``."""
        self.state.wecom.add_kf_account(corpid, open_kfid)

    def customer_says(self, corpid: str, open_kfid: str, external_userid: str, text: str) -> str:
        """Queue a customer text for ``kf/sync_msg``; opens a 5-message / 48 h window.

        Returns the message's msgid.
        """
        return self.state.wecom.customer_says(
            corpid, open_kfid, external_userid, text, self.state.clock()
        )

    def kf_sent(self, corpid: str) -> list[KfSentMessage]:
        """``kf/send_msg`` messages delivered for ``corpid``, oldest first."""
        return self.state.wecom.sent(corpid)

    def add_wecom_member(self, corpid: str, userid: str) -> None:
        """Register a member of ``corpid`` who can receive app messages."""
        self.state.wecom.require(corpid)
        self.state.wecom_apps.add_member(corpid, userid)

    def app_sent(self, corpid: str) -> list[AppSentMessage]:
        """``message/send`` messages delivered for ``corpid`` (one per member), oldest first."""
        return self.state.wecom_apps.sent(corpid)

    def customer_added(self, corpid: str, userid: str, external_userid: str) -> str:
        """``external_userid`` added member ``userid``: the event's WelcomeCode (once, 20 s)."""
        self.state.wecom.require(corpid)
        return self.state.wecom_apps.customer_added(
            corpid, userid, external_userid, self.state.clock()
        )

    def welcomes_sent(self, corpid: str) -> list[WelcomeSent]:
        """``send_welcome_msg`` messages delivered for ``corpid``, oldest first."""
        return self.state.wecom_apps.welcomes(corpid)

    def gettoken_calls(self, corpid: str) -> int:
        """Successful ``gettoken`` answers for ``corpid`` (all time)."""
        return self.state.wecom.gettoken_calls(corpid)

    # Faults -------------------------------------------------------------------------

    def inject(self, path_prefix: str, fault: Fault, times: int = 1) -> None:
        """Make the next ``times`` API requests under ``path_prefix`` fail with ``fault``.

        Faults are taken in injection order; see ``kindbot.testing.wechat_api.faults``.
        """
        self.state.faults.inject(path_prefix, fault, times)

    def clear_faults(self) -> None:
        """Drop every fault not yet taken."""
        self.state.faults.clear()

    @property
    def pending_timeouts(self) -> int:
        """Requests currently stalled by ``Fault.TIMEOUT``."""
        return self.state.stalls.waiting

    def release_timeouts(self) -> int:
        """Let stalled requests be processed now; returns how many there were."""
        return self.state.stalls.release()

    async def aclose(self) -> None:
        """Answer every stalled request with 503 at once; later stalls end immediately."""
        self.state.stalls.close()
