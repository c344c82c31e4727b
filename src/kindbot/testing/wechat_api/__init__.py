"""A local HTTP server that behaves like the documented WeChat and WeCom server APIs.

Usage in a test::

    sim = WeChatSimulator(clock=lambda: now)
    sim.add_oa_app("wx1", "secret")
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        ...

Endpoints: ``GET /cgi-bin/token``, ``POST /cgi-bin/stable_token``,
``POST /cgi-bin/message/custom/send``, ``GET /cgi-bin/gettoken``,
``POST /cgi-bin/kf/sync_msg``, ``POST /cgi-bin/kf/send_msg``,
``POST /cgi-bin/message/send``, ``POST /cgi-bin/externalcontact/send_welcome_msg``,
and control endpoints under ``/sim/`` (see ``routes_control``). The token error
mapping is in ``tokens``, the window rules in ``oa`` and ``wecom``, app messages
and welcome codes in ``wecom_app``, faults in ``faults``.
"""

from kindbot.testing.wechat_api.app import create_app
from kindbot.testing.wechat_api.errors import UnknownAccountError, WeChatApiError
from kindbot.testing.wechat_api.faults import Fault
from kindbot.testing.wechat_api.oa import SentMessage
from kindbot.testing.wechat_api.simulator import WeChatSimulator
from kindbot.testing.wechat_api.wecom import KfSentMessage
from kindbot.testing.wechat_api.wecom_app import AppSentMessage, WelcomeSent

__all__ = [
    "AppSentMessage",
    "Fault",
    "KfSentMessage",
    "SentMessage",
    "UnknownAccountError",
    "WeChatApiError",
    "WeChatSimulator",
    "WelcomeSent",
    "create_app",
]
